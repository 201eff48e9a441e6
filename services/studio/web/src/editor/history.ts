// Undo/redo over immutable graph snapshots. `commit` records a step; `preview` changes the
// present without one (node drags while the pointer moves; the drop commits).

import { useCallback, useReducer } from "react";
import type { Graph } from "./graph";

interface State {
  past: Graph[];
  present: Graph;
  future: Graph[];
  dirty: boolean;
}

type Action =
  | { type: "commit"; graph: Graph }
  | { type: "preview"; graph: Graph }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "reset"; graph: Graph }
  | { type: "saved" };

const LIMIT = 100;

function reduce(state: State, action: Action): State {
  switch (action.type) {
    case "commit":
      return {
        past: [...state.past, state.present].slice(-LIMIT),
        present: action.graph,
        future: [],
        dirty: true,
      };
    case "preview":
      return { ...state, present: action.graph };
    case "undo": {
      const previous = state.past[state.past.length - 1];
      if (!previous) return state;
      return {
        past: state.past.slice(0, -1),
        present: previous,
        future: [state.present, ...state.future],
        dirty: true,
      };
    }
    case "redo": {
      const [next, ...rest] = state.future;
      if (!next) return state;
      return { past: [...state.past, state.present], present: next, future: rest, dirty: true };
    }
    case "reset":
      return { past: [], present: action.graph, future: [], dirty: false };
    case "saved":
      return { ...state, dirty: false };
  }
}

export function useGraphHistory(initial: Graph) {
  const [state, dispatch] = useReducer(reduce, { past: [], present: initial, future: [], dirty: false });
  return {
    graph: state.present,
    dirty: state.dirty,
    canUndo: state.past.length > 0,
    canRedo: state.future.length > 0,
    commit: useCallback((graph: Graph) => dispatch({ type: "commit", graph }), []),
    preview: useCallback((graph: Graph) => dispatch({ type: "preview", graph }), []),
    undo: useCallback(() => dispatch({ type: "undo" }), []),
    redo: useCallback(() => dispatch({ type: "redo" }), []),
    reset: useCallback((graph: Graph) => dispatch({ type: "reset", graph }), []),
    markSaved: useCallback(() => dispatch({ type: "saved" }), []),
  };
}
