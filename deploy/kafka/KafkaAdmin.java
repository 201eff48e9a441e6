// Small Kafka admin helper for deploy/kafka/kafka.sh: one JVM per call instead of one per topic.
// Compiled by kafka.sh against the fetched kafka-clients jar (cached per source hash).
//
//   KafkaAdmin ready    BOOTSTRAP TIMEOUT_MS          exit 0 once the cluster answers metadata
//   KafkaAdmin ensure   BOOTSTRAP FILE REPLICATION    create/grow the topics listed in FILE
//   KafkaAdmin describe BOOTSTRAP [TOPIC...]          print "name partitions replication"
//
// FILE format: one topic per line, "name partitions [key=value ...]"; '#' starts a comment.

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

public final class KafkaAdmin {
    private KafkaAdmin() {}

    record TopicSpec(String name, int partitions, Map<String, String> configs) {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        String cmd = args[0];
        String bootstrap = args[1];
        switch (cmd) {
            case "ready" -> System.exit(ready(bootstrap, args.length > 2 ? Long.parseLong(args[2]) : 10_000));
            case "ensure" -> {
                if (args.length < 4) {
                    usage();
                }
                System.exit(ensure(bootstrap, Path.of(args[2]), Short.parseShort(args[3])));
            }
            case "describe" -> System.exit(describe(bootstrap, List.of(args).subList(2, args.length)));
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("usage: KafkaAdmin ready BOOTSTRAP [TIMEOUT_MS] | ensure BOOTSTRAP FILE REPLICATION"
                + " | describe BOOTSTRAP [TOPIC...]");
        System.exit(2);
    }

    private static Admin admin(String bootstrap, int timeoutMs) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(Math.min(timeoutMs, 10_000)));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(timeoutMs));
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "scenarist-deploy");
        return Admin.create(p);
    }

    private static int ready(String bootstrap, long timeoutMs) {
        try (Admin a = admin(bootstrap, (int) timeoutMs)) {
            DescribeClusterResult r = a.describeCluster();
            int nodes = r.nodes().get(timeoutMs, TimeUnit.MILLISECONDS).size();
            String clusterId = r.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
            // A metadata round trip that touches the controller: list topics.
            a.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
            System.out.println("ready cluster=" + clusterId + " nodes=" + nodes);
            return nodes > 0 ? 0 : 1;
        } catch (Exception e) {
            System.err.println("not ready: " + e);
            return 1;
        }
    }

    static List<TopicSpec> parse(Path file) throws Exception {
        List<TopicSpec> out = new ArrayList<>();
        int lineNo = 0;
        for (String raw : Files.readAllLines(file)) {
            lineNo++;
            String line = raw.replaceFirst("#.*", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length < 2) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": expected 'name partitions'");
            }
            Map<String, String> configs = new HashMap<>();
            for (int i = 2; i < f.length; i++) {
                String[] kv = f[i].split("=", 2);
                if (kv.length != 2) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": bad config '" + f[i] + "'");
                }
                configs.put(kv[0], kv[1]);
            }
            out.add(new TopicSpec(f[0], Integer.parseInt(f[1]), configs));
        }
        return out;
    }

    private static int ensure(String bootstrap, Path file, short replication) throws Exception {
        List<TopicSpec> specs = parse(file);
        try (Admin a = admin(bootstrap, 60_000)) {
            Set<String> existing = a.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> create = new ArrayList<>();
            for (TopicSpec s : specs) {
                if (!existing.contains(s.name())) {
                    create.add(new NewTopic(s.name(), s.partitions(), replication).configs(s.configs()));
                }
            }
            if (!create.isEmpty()) {
                for (var e : a.createTopics(create).values().entrySet()) {
                    try {
                        e.getValue().get(60, TimeUnit.SECONDS);
                        System.out.println("created " + e.getKey());
                    } catch (ExecutionException ex) {
                        if (!(ex.getCause() instanceof TopicExistsException)) {
                            throw ex;
                        }
                    }
                }
            }
            // Verify (and grow) partition counts; Kafka cannot shrink a topic.
            Map<String, TopicDescription> desc = a.describeTopics(
                    specs.stream().map(TopicSpec::name).toList()).allTopicNames().get(60, TimeUnit.SECONDS);
            Map<String, NewPartitions> grow = new HashMap<>();
            int rc = 0;
            for (TopicSpec s : specs) {
                int have = desc.get(s.name()).partitions().size();
                if (have < s.partitions()) {
                    grow.put(s.name(), NewPartitions.increaseTo(s.partitions()));
                } else if (have > s.partitions()) {
                    System.err.println("ERROR: " + s.name() + " has " + have + " partitions, definition says "
                            + s.partitions() + " (Kafka cannot shrink a topic; delete it first)");
                    rc = 1;
                }
            }
            if (!grow.isEmpty()) {
                a.createPartitions(grow).all().get(60, TimeUnit.SECONDS);
                grow.keySet().forEach(t -> System.out.println("grew " + t));
            }
            return rc;
        }
    }

    private static int describe(String bootstrap, List<String> topics) throws Exception {
        try (Admin a = admin(bootstrap, 30_000)) {
            Set<String> names = topics.isEmpty()
                    ? new TreeSet<>(a.listTopics().names().get(30, TimeUnit.SECONDS))
                    : new TreeSet<>(topics);
            Map<String, TopicDescription> desc = new TreeMap<>(
                    a.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS));
            for (TopicDescription d : desc.values()) {
                int rf = d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
                System.out.println(d.name() + " " + d.partitions().size() + " " + rf);
            }
            return 0;
        }
    }
}
