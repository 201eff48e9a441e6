// The editor's model: modules as nodes and links as edges, converted to and from the scenario
// document (a tree: a flow of modules, routers carrying ordered routes, error-handler flows).
// A link's filter is kept on the edge and written to the target module, as the engine reads it.

import type { Filter, ModuleDoc, Route, ScenarioDoc } from "../types";

export type EdgeKind = "next" | "route" | "error";

export interface GraphNode {
  id: number;
  module: ModuleDoc; // without filter, routes and onerror: those live on edges
  x: number;
  y: number;
}

export interface GraphEdge {
  source: number;
  target: number;
  kind: EdgeKind;
  filter: Filter | null;
  routeLabel: string;
  fallback: boolean;
  order: number; // routes: position among the router's routes
}

export interface Graph {
  name: string;
  description: string | null;
  settings: Record<string, unknown>;
  metadata: Record<string, unknown>;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const ROUTER = "builtin:BasicRouter";
export const DIRECTIVES = ["Resume", "Ignore", "Break", "Commit", "Rollback"];
const X_STEP = 300;
const Y_STEP = 150;

export function isRouter(node: GraphNode | undefined): boolean {
  return node?.module.module === ROUTER;
}

function bare(module: ModuleDoc): ModuleDoc {
  const { filter: _f, routes: _r, onerror: _o, ...rest } = module;
  return rest;
}

function designer(module: ModuleDoc): { x: number; y: number } | null {
  const found = (module.metadata ?? {})["designer"] as { x?: unknown; y?: unknown } | undefined;
  if (found && typeof found.x === "number" && typeof found.y === "number") {
    return { x: found.x, y: found.y };
  }
  return null;
}

export function toGraph(doc: ScenarioDoc): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  let placed = true;

  function addFlow(flow: ModuleDoc[], from: number | null, kind: EdgeKind, route?: Route, order = 0) {
    let previous = from;
    flow.forEach((module, index) => {
      const at = designer(module);
      if (!at) placed = false;
      nodes.push({ id: module.id, module: bare(module), x: at?.x ?? 0, y: at?.y ?? 0 });
      if (previous !== null) {
        const first = index === 0;
        edges.push({
          source: previous,
          target: module.id,
          kind: first ? kind : "next",
          filter: module.filter ?? null,
          routeLabel: first && route ? route.label ?? "" : "",
          fallback: first && route ? !!route.fallback : false,
          order: first ? order : 0,
        });
      }
      (module.routes ?? []).forEach((r, i) => {
        if (r.flow.length) addFlow(r.flow, module.id, "route", r, i);
      });
      if (module.onerror?.length) addFlow(module.onerror, module.id, "error");
      previous = module.id;
    });
  }

  addFlow(doc.flow, null, "next");
  // Modules not linked to the trigger yet, kept in the document's metadata between saves.
  const detached = ((doc.metadata ?? {})["studio_detached"] ?? []) as ModuleDoc[][];
  detached.forEach((flow) => addFlow(flow, null, "next"));
  const { studio_detached: _d, ...metadata } = doc.metadata ?? {};
  const graph: Graph = {
    name: doc.name,
    description: doc.description ?? null,
    settings: doc.settings ?? {},
    metadata,
    nodes,
    edges,
  };
  return placed ? graph : autoLayout(graph);
}

function outgoing(graph: Graph, id: number): GraphEdge[] {
  return graph.edges.filter((e) => e.source === id);
}

export function incoming(graph: Graph, id: number): GraphEdge | undefined {
  return graph.edges.find((e) => e.target === id);
}

function withDesigner(node: GraphNode): ModuleDoc {
  return {
    ...node.module,
    metadata: { ...(node.module.metadata ?? {}), designer: { x: Math.round(node.x), y: Math.round(node.y) } },
  };
}

function flowFrom(graph: Graph, start: number, filter: Filter | null): ModuleDoc[] {
  const flow: ModuleDoc[] = [];
  let current: number | undefined = start;
  let currentFilter = filter;
  const seen = new Set<number>();
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    const node = graph.nodes.find((n) => n.id === current);
    if (!node) break;
    const module: ModuleDoc = withDesigner(node);
    if (currentFilter && currentFilter.conditions.length) module.filter = currentFilter;
    const out = outgoing(graph, node.id);
    const routes = out.filter((e) => e.kind === "route").sort((a, b) => a.order - b.order);
    if (isRouter(node)) {
      module.routes = routes.map((e) => ({
        label: e.routeLabel || null,
        fallback: e.fallback,
        flow: flowFrom(graph, e.target, e.filter),
      }));
    }
    const error = out.find((e) => e.kind === "error");
    if (error) module.onerror = flowFrom(graph, error.target, null);
    flow.push(module);
    const next = isRouter(node) ? undefined : out.find((e) => e.kind === "next");
    current = next?.target;
    currentFilter = next?.filter ?? null;
  }
  return flow;
}

export function roots(graph: Graph): GraphNode[] {
  const targets = new Set(graph.edges.map((e) => e.target));
  return graph.nodes.filter((n) => !targets.has(n.id));
}

export function toDocument(graph: Graph): ScenarioDoc {
  const starts = roots(graph).sort((a, b) => a.id - b.id);
  const [trigger, ...rest] = starts;
  const metadata: Record<string, unknown> = { ...graph.metadata };
  if (rest.length) metadata["studio_detached"] = rest.map((r) => flowFrom(graph, r.id, null));
  const doc: ScenarioDoc = {
    name: graph.name,
    settings: graph.settings,
    flow: trigger ? flowFrom(graph, trigger.id, null) : [],
    metadata,
  };
  if (graph.description) doc.description = graph.description;
  return doc;
}

export function nextId(graph: Graph): number {
  return graph.nodes.reduce((max, n) => Math.max(max, n.id), 0) + 1;
}

/** Can `source` link to `target` as `kind`? Keeps the graph a tree the document can hold. */
export function linkProblem(graph: Graph, source: number, target: number, kind: EdgeKind): string | null {
  if (source === target) return "a module cannot link to itself";
  if (incoming(graph, target)) return "that module already has an incoming link";
  const out = outgoing(graph, source);
  if (kind === "error" && out.some((e) => e.kind === "error")) return "it already has an error handler";
  if (kind === "next" && out.some((e) => e.kind === "next")) return "it already links to a module";
  // No cycles: the target may not be an ancestor of the source.
  let walk: number | undefined = source;
  while (walk !== undefined) {
    if (walk === target) return "that would make a loop";
    walk = incoming(graph, walk)?.source;
  }
  return null;
}

export function newEdge(graph: Graph, source: number, target: number, kind: EdgeKind): GraphEdge {
  const node = graph.nodes.find((n) => n.id === source);
  const routeKind: EdgeKind = kind === "error" ? "error" : isRouter(node) ? "route" : "next";
  const order = outgoing(graph, source).filter((e) => e.kind === "route").length;
  return {
    source,
    target,
    kind: routeKind,
    filter: null,
    routeLabel: routeKind === "route" ? `Route ${order + 1}` : "",
    fallback: false,
    order,
  };
}

/** Upstream modules of `id` (nearest first), whose outputs `id` may map. */
export function upstream(graph: Graph, id: number): GraphNode[] {
  const found: GraphNode[] = [];
  let edge = incoming(graph, id);
  while (edge) {
    const node = graph.nodes.find((n) => n.id === edge!.source);
    if (!node) break;
    if (!isRouter(node)) found.push(node);
    edge = incoming(graph, node.id);
  }
  return found;
}

/** A tidy left-to-right tree layout: depth on x, leaves stacked on y. */
export function autoLayout(graph: Graph): Graph {
  const positions = new Map<number, { x: number; y: number }>();
  let row = 0;
  function place(id: number, depth: number): number {
    const children = outgoing(graph, id).sort(
      (a, b) => (a.kind === "error" ? 1 : 0) - (b.kind === "error" ? 1 : 0) || a.order - b.order,
    );
    let y: number;
    if (!children.length) {
      y = row * Y_STEP;
      row += 1;
    } else {
      const ys = children.map((e) => place(e.target, depth + 1));
      y = ys[0]!;
    }
    positions.set(id, { x: depth * X_STEP, y });
    return y;
  }
  roots(graph)
    .sort((a, b) => a.id - b.id)
    .forEach((r) => place(r.id, 0));
  return {
    ...graph,
    nodes: graph.nodes.map((n) => ({ ...n, ...(positions.get(n.id) ?? { x: n.x, y: n.y }) })),
  };
}

/** Routes of each router numbered 0..n-1 again, in their current order (after deletions). */
export function renumberRoutes(edges: GraphEdge[]): GraphEdge[] {
  const bySource = new Map<number, GraphEdge[]>();
  edges.filter((e) => e.kind === "route").forEach((e) => bySource.set(e.source, [...(bySource.get(e.source) ?? []), e]));
  const order = new Map<GraphEdge, number>();
  bySource.forEach((list) => list.sort((a, b) => a.order - b.order).forEach((e, i) => order.set(e, i)));
  return edges.map((e) => (order.has(e) ? { ...e, order: order.get(e)! } : e));
}
