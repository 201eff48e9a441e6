// The scenario canvas on @xyflow/react: modules as nodes (a right handle for the next module
// or a router's routes, a bottom handle for the error handler), links as edges whose label
// button opens the filter editor. Zoom, pan, minimap and controls come from the library.

import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  getBezierPath,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  applyNodeChanges,
  type Connection,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeChange,
  type NodeProps,
  type ReactFlowInstance,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import type { ModuleSpec } from "../types";
import { isRouter, type EdgeKind, type Graph, type GraphEdge } from "./graph";

interface ModuleData extends Record<string, unknown> {
  id: number;
  title: string;
  kind: string;
  operations: number | null;
  failed: boolean;
  router: boolean;
}

interface LinkData extends Record<string, unknown> {
  edge: GraphEdge;
  text: string;
  onOpen: (edge: GraphEdge) => void;
}

type ModuleNode = Node<ModuleData, "module">;
type LinkEdge = Edge<LinkData, "link">;

function ModuleBox({ data, selected }: NodeProps<ModuleNode>) {
  return (
    <div className={`module-node${selected ? " selected" : ""}${data.router ? " router" : ""}${data.failed ? " failed" : ""}`} data-module-id={data.id}>
      <Handle type="target" position={Position.Left} id="in" />
      <span className="module-id">{data.id}</span>
      <span className="module-title">{data.title}</span>
      <span className="module-kind">{data.kind}</span>
      {data.operations !== null && (
        <span className="run-badge" aria-label={`${data.operations} operations in the last run`}>
          {data.operations}
        </span>
      )}
      <Handle type="source" position={Position.Right} id="next" />
      {!data.router && <Handle type="source" position={Position.Bottom} id="error" className="error-handle" />}
    </div>
  );
}

function LinkLine(props: EdgeProps<LinkEdge>) {
  const [path, x, y] = getBezierPath(props);
  const data = props.data!;
  const kind = data.edge.kind;
  return (
    <>
      <BaseEdge id={props.id} path={path} className={`link link-${kind}`} />
      <EdgeLabelRenderer>
        <button
          type="button"
          className={`link-label nodrag nopan link-label-${kind}${data.edge.filter ? " has-filter" : ""}`}
          data-link={`${data.edge.source}-${data.edge.target}`}
          style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` }}
          onClick={() => data.onOpen(data.edge)}
        >
          {data.text}
        </button>
      </EdgeLabelRenderer>
    </>
  );
}

const NODE_TYPES = { module: ModuleBox };
const EDGE_TYPES = { link: LinkLine };

function linkText(edge: GraphEdge): string {
  const filter = edge.filter?.conditions.length ? `⚲ ${edge.filter.name || "filter"}` : "";
  if (edge.kind === "error") return "on error";
  if (edge.kind === "route") {
    const route = `${edge.order + 1}. ${edge.routeLabel || "route"}${edge.fallback ? " (fallback)" : ""}`;
    return filter ? `${route} · ${filter}` : route;
  }
  return filter || "filter…";
}

interface Props {
  graph: Graph;
  specs: Map<string, ModuleSpec>;
  operations: Map<number, number> | null;
  failed: Set<number>;
  selected: number | null;
  readOnly: boolean;
  fitSignal: number; // changes when the view should fit every module again (auto-layout)
  onSelect: (id: number | null) => void;
  onMove: (positions: Map<number, { x: number; y: number }>, final: boolean) => void;
  onConnect: (source: number, target: number, kind: EdgeKind) => void;
  onDelete: (nodes: number[], edges: GraphEdge[]) => void;
  onOpenLink: (edge: GraphEdge) => void;
}

export function Canvas(props: Props) {
  const { graph, specs, operations, failed, selected, readOnly } = props;
  const wanted = useMemo<ModuleNode[]>(
    () =>
      graph.nodes.map((n) => ({
        id: String(n.id),
        type: "module",
        position: { x: n.x, y: n.y },
        selected: n.id === selected,
        ariaLabel: `Module ${n.id}: ${n.module.label || specs.get(n.module.module)?.label || n.module.module}`,
        data: {
          id: n.id,
          title: n.module.label || specs.get(n.module.module)?.label || n.module.module,
          kind: n.module.module,
          operations: operations ? operations.get(n.id) ?? 0 : null,
          failed: failed.has(n.id),
          router: isRouter(n),
        },
      })),
    [graph.nodes, specs, operations, failed, selected],
  );
  const [nodes, setNodes] = useState<ModuleNode[]>(wanted);
  const flow = useRef<ReactFlowInstance<ModuleNode, LinkEdge> | null>(null);
  useEffect(() => {
    if (!props.fitSignal) return;
    // After the next paint, so a module added just now has been measured and is included.
    const timer = window.setTimeout(() => void flow.current?.fitView({ maxZoom: 1.1, duration: 0 }), 60);
    return () => window.clearTimeout(timer);
  }, [props.fitSignal]);
  useEffect(() => {
    // Keep what the library measured; take everything else from the graph.
    setNodes((old) => {
      const measured = new Map(old.map((n) => [n.id, n.measured]));
      return wanted.map((n) => ({ ...n, measured: measured.get(n.id) }));
    });
  }, [wanted]);

  const edges = useMemo<LinkEdge[]>(
    () =>
      graph.edges.map((e) => ({
        id: `${e.source}-${e.target}`,
        source: String(e.source),
        target: String(e.target),
        sourceHandle: e.kind === "error" ? "error" : "next",
        targetHandle: "in",
        type: "link",
        data: { edge: e, text: linkText(e), onOpen: props.onOpenLink },
      })),
    [graph.edges, props.onOpenLink],
  );

  const onNodesChange = (changes: NodeChange<ModuleNode>[]) => {
    setNodes((old) => applyNodeChanges(changes, old));
    const moved = new Map<number, { x: number; y: number }>();
    let final = false;
    for (const change of changes) {
      if (change.type === "position" && change.position) {
        moved.set(Number(change.id), change.position);
        if (change.dragging === false) final = true;
      } else if (change.type === "position" && change.dragging === false) {
        final = true;
      }
      if (change.type === "select" && change.selected) props.onSelect(Number(change.id));
    }
    if (moved.size || final) props.onMove(moved, final);
  };

  const onConnect = (connection: Connection) => {
    if (readOnly || !connection.source || !connection.target) return;
    props.onConnect(Number(connection.source), Number(connection.target), connection.sourceHandle === "error" ? "error" : "next");
  };

  return (
    <div className="canvas" aria-label="Scenario canvas">
      <ReactFlow<ModuleNode, LinkEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        edgeTypes={EDGE_TYPES}
        onInit={(instance) => {
          flow.current = instance;
        }}
        onNodesChange={onNodesChange}
        onConnect={onConnect}
        onDelete={({ nodes: gone, edges: cut }) =>
          props.onDelete(
            gone.map((n) => Number(n.id)),
            cut.map((e) => e.data!.edge),
          )
        }
        onPaneClick={() => props.onSelect(null)}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        elementsSelectable
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
        fitView
        fitViewOptions={{ maxZoom: 1.1 }}
        minZoom={0.2}
        maxZoom={2}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
      </ReactFlow>
    </div>
  );
}
