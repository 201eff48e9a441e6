// The scenario editor: canvas, module panel with mapping, filters, settings, webhooks and
// "Run once" with the run's bundles per module.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, errorText } from "../api";
import { stepsByModule } from "../components/RunInspector";
import { Canvas } from "../editor/Canvas";
import { useCatalogue } from "../editor/catalogue";
import { FilterEditor } from "../editor/FilterEditor";
import {
  autoLayout,
  incoming,
  isRouter,
  linkProblem,
  newEdge,
  nextId,
  renumberRoutes,
  roots,
  toDocument,
  toGraph,
  upstream,
  type EdgeKind,
  type Graph,
  type GraphEdge,
  type GraphNode,
} from "../editor/graph";
import { useGraphHistory } from "../editor/history";
import { MappingContext, type MappingTarget } from "../editor/mapping";
import { MappingPanel } from "../editor/MappingPanel";
import { ModulePanel } from "../editor/ModulePanel";
import { ModulePicker } from "../editor/ModulePicker";
import { followRun, type RunResult } from "../editor/runOnce";
import { RunOncePanel } from "../editor/RunOncePanel";
import { SchedulePanel } from "../editor/SchedulePanel";
import { SettingsPanel } from "../editor/SettingsPanel";
import { WebhookPanel } from "../editor/WebhookPanel";
import type { Me, ModuleDoc, ModuleSpec, ScenarioView } from "../types";

type Dialog = null | "picker" | "trigger-picker" | "settings" | "webhooks" | "schedules" | { edge: GraphEdge };

export function Editor({ scenarioId, me }: { scenarioId: string; me: Me }) {
  const [scenario, setScenario] = useState<ScenarioView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<ScenarioView>("GET", `/scenarios/${scenarioId}`)
      .then(setScenario)
      .catch((e: unknown) => setError(errorText(e)));
  }, [scenarioId]);
  if (error) return <p className="error" role="alert">{error}</p>;
  if (!scenario) return <p>Loading…</p>;
  if (!scenario.document) return <p className="error">This scenario is not a JSON document; edit it with the CLI.</p>;
  return <EditorLoaded initial={scenario} me={me} />;
}

function EditorLoaded({ initial, me }: { initial: ScenarioView; me: Me }) {
  const readOnly = me.role === "viewer";
  const { catalogue, error: catalogueError } = useCatalogue();
  const history = useGraphHistory(useMemo(() => toGraph(initial.document!), [initial]));
  const { graph, commit, preview } = history;
  const [scenario, setScenario] = useState(initial);
  const [selected, setSelected] = useState<number | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [sample, setSample] = useState('{\n  "hello": "world"\n}');
  const [result, setResult] = useState<RunResult | null>(null);
  const [running, setRunning] = useState(false);
  const [tab, setTab] = useState<"module" | "run">("module");
  const [fitSignal, setFitSignal] = useState(0);
  const mappingTarget = useRef<MappingTarget | null>(null);
  const specs = catalogue?.modules ?? new Map<string, ModuleSpec>();
  const node = graph.nodes.find((n) => n.id === selected);
  const trigger = roots(graph).sort((a, b) => a.id - b.id)[0]?.module.module ?? ""; // as toDocument
  const lastSteps = useMemo(() => stepsByModule(result?.steps ?? []), [result]);
  const operations = useMemo(
    () => (result ? new Map([...lastSteps.entries()].map(([id, steps]) => [id, steps.length])) : null),
    [result, lastSteps],
  );
  const failed = useMemo(() => new Set((result?.steps ?? []).filter((s) => s.error).map((s) => s.module_id)), [result]);

  const save = useCallback(async (): Promise<boolean> => {
    try {
      const saved = await api<ScenarioView>("PUT", `/scenarios/${scenario.id}`, {
        document: toDocument(graph),
        expected_version: scenario.version,
      });
      setScenario({ ...scenario, ...saved });
      history.markSaved();
      setMessage(`Saved as version ${saved.version}.`);
      return true;
    } catch (e) {
      setMessage(errorText(e));
      return false;
    }
  }, [graph, scenario, history]);

  const updateNode = (module: ModuleDoc) =>
    commit({ ...graph, nodes: graph.nodes.map((n) => (n.id === module.id ? { ...n, module } : n)) });

  const addModule = (spec: ModuleSpec, from: GraphNode | null, kind: EdgeKind = "next") => {
    const id = nextId(graph);
    const siblings = from ? graph.edges.filter((e) => e.source === from.id && e.kind !== "error").length : 0;
    const x = from ? from.x + 240 : 0;
    const y = from ? from.y + (kind === "error" ? 160 : siblings * 150) : 0;
    const created: GraphNode = { id, module: { id, module: spec.id, mapper: {}, parameters: {} }, x, y };
    let edges = graph.edges;
    if (from) {
      const existing = !isRouter(from) && kind === "next" ? edges.find((e) => e.source === from.id && e.kind === "next") : undefined;
      const withNode = { ...graph, nodes: [...graph.nodes, created] };
      if (existing) {
        // Insert between the module and the one it already leads to.
        edges = edges.map((e) => (e === existing ? { ...e, source: id } : e));
        edges = [...edges, newEdge({ ...withNode, edges }, from.id, id, "next")];
      } else {
        edges = [...edges, newEdge(withNode, from.id, id, kind)];
      }
    }
    commit({ ...graph, nodes: [...graph.nodes, created], edges });
    setSelected(id);
    setDialog(null);
    setFitSignal((n) => n + 1); // keep the new module in view
  };

  const addErrorHandler = (from: GraphNode, directive: string) => {
    const spec = specs.get(`builtin:${directive}`) ?? ({ id: `builtin:${directive}` } as ModuleSpec);
    addModule(spec, from, "error");
  };

  const deleteThings = (nodeIds: number[], cut: GraphEdge[]) => {
    const gone = new Set(nodeIds);
    const edges = graph.edges.filter(
      (e) => !gone.has(e.source) && !gone.has(e.target) && !cut.some((c) => c.source === e.source && c.target === e.target),
    );
    commit({ ...graph, nodes: graph.nodes.filter((n) => !gone.has(n.id)), edges: renumberRoutes(edges) });
    if (selected !== null && gone.has(selected)) setSelected(null);
  };

  const connect = (source: number, target: number, kind: EdgeKind) => {
    const problem = linkProblem(graph, source, target, kind);
    if (problem) {
      setMessage(`Cannot link ${source} → ${target}: ${problem}.`);
      return;
    }
    commit({ ...graph, edges: [...graph.edges, newEdge(graph, source, target, kind)] });
  };

  const move = (positions: Map<number, { x: number; y: number }>, final: boolean) => {
    const nodes = graph.nodes.map((n) => (positions.has(n.id) ? { ...n, ...positions.get(n.id)! } : n));
    (final ? commit : preview)({ ...graph, nodes });
  };

  const saveEdge = (edge: GraphEdge) => {
    commit({ ...graph, edges: graph.edges.map((e) => (e.target === edge.target ? edge : e)) });
    setDialog(null);
  };

  const moveRoute = (edge: GraphEdge, delta: number) => {
    const routes = graph.edges.filter((e) => e.source === edge.source && e.kind === "route").sort((a, b) => a.order - b.order);
    const index = routes.findIndex((e) => e.target === edge.target);
    const swap = routes[index + delta];
    if (!swap) return;
    const edges = graph.edges.map((e) =>
      e.target === edge.target ? { ...e, order: swap.order } : e.target === swap.target ? { ...e, order: edge.order } : e,
    );
    commit({ ...graph, edges });
    setDialog({ edge: { ...edge, order: swap.order } });
  };

  const runOnce = async () => {
    let input: unknown;
    try {
      input = JSON.parse(sample);
    } catch (e) {
      setMessage(`The sample payload is not JSON: ${errorText(e)}`);
      return;
    }
    if (history.dirty && !(await save())) return;
    setRunning(true);
    setTab("run");
    try {
      const run = await api<{ id: string }>("POST", `/scenarios/${scenario.id}/runs`, { input });
      await followRun(run.id, setResult, () => false, true);
    } catch (e) {
      setMessage(errorText(e));
    } finally {
      setRunning(false);
    }
  };

  const toggleActive = async () => {
    try {
      const action = scenario.active ? "deactivate" : "activate";
      const done = await api<ScenarioView>("POST", `/scenarios/${scenario.id}/${action}`);
      setScenario({ ...scenario, active: done.active });
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
      if (!(event.ctrlKey || event.metaKey) || typing || readOnly) return;
      if (event.key === "z" && !event.shiftKey) history.undo();
      else if (event.key === "y" || (event.key === "z" && event.shiftKey) || event.key === "Z") history.redo();
      else if (event.key === "s") void save();
      else return;
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [history, save, readOnly]);

  const labels = new Map(graph.nodes.map((n) => [n.id, n.module.label || specs.get(n.module.module)?.label || n.module.module]));
  const routeCount = (edge: GraphEdge) => graph.edges.filter((e) => e.source === edge.source && e.kind === "route").length;

  return (
    <MappingContext.Provider value={mappingTarget}>
      <div className="editor">
        <header className="toolbar" aria-label="Scenario toolbar">
          <h1 className="scenario-name" title={graph.name}>
            {graph.name}
          </h1>
          <span className="muted">v{scenario.version}{history.dirty ? " · unsaved changes" : ""}</span>
          {!readOnly && (
            <>
              <button type="button" className="primary" onClick={() => void save()} disabled={!history.dirty}>
                Save
              </button>
              <button type="button" onClick={history.undo} disabled={!history.canUndo} aria-keyshortcuts="Control+Z">
                Undo
              </button>
              <button type="button" onClick={history.redo} disabled={!history.canRedo} aria-keyshortcuts="Control+Y">
                Redo
              </button>
              <button
                type="button"
                onClick={() => {
                  commit(autoLayout(graph));
                  setFitSignal((n) => n + 1);
                }}
              >
                Auto-layout
              </button>
            </>
          )}
          <button type="button" onClick={() => setDialog("settings")}>
            Settings
          </button>
          <button type="button" onClick={() => setDialog("webhooks")}>
            Webhooks
          </button>
          <button type="button" onClick={() => setDialog("schedules")}>
            Schedules
          </button>
          {!readOnly && (
            <button type="button" onClick={toggleActive} aria-pressed={scenario.active}>
              {scenario.active ? "Deactivate" : "Activate"}
            </button>
          )}
          <span className={`status ${scenario.active ? "status-active" : "status-inactive"}`}>{scenario.active ? "active" : "inactive"}</span>
          <a href={`#/scenarios/${scenario.id}/history`}>History</a>
          <a href={`#/scenarios/${scenario.id}/versions`}>Versions</a>
          <a href={`/api/scenarios/${scenario.id}/export`} download>
            Export
          </a>
        </header>
        {message && (
          <p className="message" role="status">
            {message}{" "}
            <button type="button" className="ghost" onClick={() => setMessage(null)} aria-label="Dismiss message">
              ×
            </button>
          </p>
        )}
        {catalogueError && <p className="error">Catalogue unavailable: {catalogueError}</p>}
        <div className="editor-main">
          <div className="canvas-wrap">
            {graph.nodes.length === 0 && !readOnly && (
              <button type="button" className="primary add-trigger" onClick={() => setDialog("trigger-picker")}>
                Add a trigger
              </button>
            )}
            <Canvas
              graph={graph}
              specs={specs}
              operations={operations}
              failed={failed}
              selected={selected}
              readOnly={readOnly}
              fitSignal={fitSignal}
              onSelect={(id) => {
                setSelected(id);
                if (id !== null) setTab("module");
              }}
              onMove={move}
              onConnect={connect}
              onDelete={deleteThings}
              onOpenLink={(edge) => setDialog({ edge })}
            />
          </div>
          <aside className="side" aria-label="Side panel">
            <div role="tablist" className="tabs">
              <button type="button" role="tab" aria-selected={tab === "module"} onClick={() => setTab("module")}>
                Module
              </button>
              <button type="button" role="tab" aria-selected={tab === "run"} onClick={() => setTab("run")}>
                Run once
              </button>
            </div>
            {tab === "module" && !node && (
              <div className="hint">
                <p>Select a module on the canvas (click it, or Tab to it and press Enter) to edit it.</p>
                <ul className="module-index" aria-label="Modules">
                  {graph.nodes.map((n) => (
                    <li key={n.id}>
                      <button type="button" onClick={() => setSelected(n.id)}>
                        {n.id}. {labels.get(n.id)}
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {tab === "module" && node && (
              <>
                <ModulePanel
                  key={node.id}
                  node={node}
                  spec={specs.get(node.module.module)}
                  app={catalogue?.apps.find((a) => a.name === specs.get(node.module.module)?.app)}
                  readOnly={readOnly}
                  hasErrorHandler={graph.edges.some((e) => e.source === node.id && e.kind === "error")}
                  onChange={updateNode}
                  onAddNext={() => setDialog("picker")}
                  onAddErrorHandler={(d) => addErrorHandler(node, d)}
                  onDelete={() => deleteThings([node.id], [])}
                />
                {incoming(graph, node.id) && (
                  <p>
                    <button type="button" onClick={() => setDialog({ edge: incoming(graph, node.id)! })}>
                      {incoming(graph, node.id)!.kind === "route" ? "Edit route and filter" : "Edit filter on the incoming link"}
                    </button>
                  </p>
                )}
                {catalogue && (
                  <MappingPanel upstream={upstream(graph, node.id)} specs={specs} functions={catalogue.functions} lastSteps={lastSteps} />
                )}
              </>
            )}
            {tab === "run" && (
              <RunOncePanel
                scenarioId={scenario.id}
                readOnly={readOnly}
                webhookTrigger={trigger === "gateway:CustomWebHook" || specs.get(trigger)?.kind === "instant_trigger"}
                sample={sample}
                onSample={setSample}
                running={running}
                onRun={() => void runOnce()}
                result={result}
                labels={labels}
              />
            )}
          </aside>
        </div>
        {dialog === "picker" && catalogue && node && (
          <ModulePicker catalogue={catalogue} title="Add a module" onPick={(spec) => addModule(spec, node)} onClose={() => setDialog(null)} />
        )}
        {dialog === "trigger-picker" && catalogue && (
          <ModulePicker catalogue={catalogue} title="Choose a trigger" triggersOnly onPick={(spec) => addModule(spec, null)} onClose={() => setDialog(null)} />
        )}
        {dialog === "settings" && (
          <SettingsPanel
            name={graph.name}
            description={graph.description}
            settings={graph.settings}
            readOnly={readOnly}
            onClose={() => setDialog(null)}
            onSave={(name, description, settings) => {
              commit({ ...graph, name, description, settings });
              setDialog(null);
            }}
          />
        )}
        {dialog === "webhooks" && <WebhookPanel scenarioId={scenario.id} readOnly={readOnly} onClose={() => setDialog(null)} />}
        {dialog === "schedules" && <SchedulePanel scenarioId={scenario.id} readOnly={readOnly} onClose={() => setDialog(null)} />}
        {dialog !== null && typeof dialog === "object" && catalogue && (
          <FilterEditor
            key={`${dialog.edge.source}-${dialog.edge.target}-${dialog.edge.order}`}
            edge={dialog.edge}
            routeCount={routeCount(dialog.edge)}
            operators={catalogue.operators}
            readOnly={readOnly}
            onSave={saveEdge}
            onMove={(delta) => moveRoute(dialog.edge, delta)}
            onClose={() => setDialog(null)}
          />
        )}
      </div>
    </MappingContext.Provider>
  );
}

export type { Graph };
