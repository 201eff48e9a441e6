"""Run state, module tasks and their results: plain, serializable data.

The state machine owns nothing else, so the orchestrator can persist a run between any two
steps and another instance can carry on from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

from scenarist_engine.iml.values import to_json_compatible

Path = dict[int, Any]  # module id -> that module's output bundle on this path


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    WARNING = "warning"  # finished, with incomplete executions parked
    ERROR = "error"


class ScopeKind(StrEnum):
    CYCLE = "cycle"
    BUNDLES = "bundles"
    ROUTES = "routes"
    AGGREGATE = "aggregate"
    HANDLER = "handler"


@dataclass
class Token:
    """A bundle path on its way into a module."""

    id: str
    module_id: int
    path: Path
    position: list[int]
    scope: int
    attempt: int = 1
    filtered: bool = False  # the route already checked this module's filter
    handler_for: Token | None = None  # in an error-handler flow: the token that failed


@dataclass
class Scope:
    """A group of work whose completion triggers something: next route, aggregation, cycle end."""

    id: int
    kind: ScopeKind
    parent: int | None
    live: int = 0
    queue: list[Token] = field(default_factory=list)
    limit: int = 0  # concurrent tokens released from the queue; 0 = all
    origin: Token | None = None  # the router/feeder/failed token that opened the scope
    route_index: int = -1
    matched: bool = False
    aggregator_id: int | None = None
    items: list[tuple[list[int], Any, Any]] = field(default_factory=list)  # position, key, item


@dataclass
class ErrorInfo:
    type: str
    message: str
    retry_after: float | None = None


@dataclass
class Execution:
    """What every expression of the run can see besides bundles."""

    run_id: str
    scenario_id: str
    timezone: str
    started_at: float  # Unix seconds; the run's `now` for date functions


@dataclass
class ModuleTask:
    """One module run on one bundle, as an executor receives it."""

    run_id: str
    task_id: str
    module_id: int
    module: dict[str, Any]
    path: Path
    variables: dict[str, Any]
    persistent: dict[str, Any]
    attempt: int
    execution: Execution
    now: float = 0.0  # Unix seconds the machine dispatched the task; `now` in expressions
    not_before: float = 0.0

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}/{self.module_id}/{self.task_id}/{self.attempt}"


@dataclass
class TaskResult:
    """What an executor reports back for one task."""

    run_id: str
    task_id: str
    attempt: int
    bundles: list[dict[str, Any]] = field(default_factory=list)
    error: ErrorInfo | None = None
    inputs: dict[str, Any] | None = None
    set_variables: dict[str, Any] = field(default_factory=dict)
    variable_scope: str = "execution"
    set_persistent: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None
    started_at: float = 0.0
    finished_at: float = 0.0


@dataclass
class Operation:
    """One entry of the execution log: a module on one bundle."""

    module_id: int
    task_id: str
    attempt: int
    cycle: int
    inputs: Any = None
    output: list[dict[str, Any]] | None = None
    error: ErrorInfo | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    counted: bool = True


@dataclass
class IncompleteExecution:
    """A bundle parked by Break (or by 'store incomplete executions'), resumable later."""

    id: str
    module_id: int
    path: Path
    position: list[int]
    error: ErrorInfo
    attempts: int
    retry_count: int = 0
    retry_interval_minutes: float = 0.0


@dataclass
class RunState:
    """Everything the state machine knows about one run."""

    execution: Execution
    status: RunStatus = RunStatus.RUNNING
    cycle: int = 0
    trigger_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    scopes: dict[int, Scope] = field(default_factory=dict)
    in_flight: dict[str, Token] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    cycle_variables: dict[str, Any] = field(default_factory=dict)
    persistent: dict[str, Any] = field(default_factory=dict)
    operations: int = 0
    log: list[Operation] = field(default_factory=list)
    incomplete: list[IncompleteExecution] = field(default_factory=list)
    response: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    next_token: int = 0
    next_scope: int = 0
    finished_at: float | None = None

    def all_variables(self) -> dict[str, Any]:
        return {**self.variables, **self.cycle_variables}


_STATE = TypeAdapter(RunState)
_TASK = TypeAdapter(ModuleTask)
_RESULT = TypeAdapter(TaskResult)


_BUNDLE_REF = "$bundle"


class _Interner:
    """Writes each bundle once: tokens of a fan-out share their upstream bundles in memory,
    and a state that repeated them per token would grow with (tokens x bundle size).

    Incomplete executions keep their paths inline: they are few, and operators' tools read them.
    """

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.bundles: list[Any] = []

    def path(self, path: Path) -> dict[str, Any]:
        return {str(key): {_BUNDLE_REF: self._ref(bundle)} for key, bundle in path.items()}

    def _ref(self, bundle: Any) -> int:
        found = self.index.get(id(bundle))  # the bundles stay alive while we dump: ids are unique
        if found is None:
            found = self.index[id(bundle)] = len(self.bundles)
            self.bundles.append(bundle)
        return found

    def token(self, token: Token | None) -> dict[str, Any] | None:
        """The token as pydantic would dump it (a unit test holds the two equal). By hand: a
        fan-out's state holds a token per item, and pydantic's generic dump of them was half
        of the orchestrator's CPU in workload 4, where every result batch saves the state."""
        if token is None:
            return None
        return {
            "id": token.id,
            "module_id": token.module_id,
            "path": self.path(token.path),
            "position": list(token.position),
            "scope": token.scope,
            "attempt": token.attempt,
            "filtered": token.filtered,
            "handler_for": self.token(token.handler_for),
        }

    def scope(self, scope: Scope) -> dict[str, Any]:
        return {
            "id": scope.id,
            "kind": scope.kind.value,
            "parent": scope.parent,
            "live": scope.live,
            "queue": [self.token(token) for token in scope.queue],
            "limit": scope.limit,
            "origin": self.token(scope.origin),
            "route_index": scope.route_index,
            "matched": scope.matched,
            "aggregator_id": scope.aggregator_id,
            "items": [
                [list(position), _shared(key), _shared(item)] for position, key, item in scope.items
            ],
        }


def _tokens(state: RunState) -> Iterator[Token]:
    for token in state.in_flight.values():
        yield from _chain(token)
    for scope in state.scopes.values():
        for token in scope.queue:
            yield from _chain(token)
        if scope.origin is not None:
            yield from _chain(scope.origin)


def _chain(token: Token) -> Iterator[Token]:
    current: Token | None = token
    while current is not None:
        yield current
        current = current.handler_for


def dump_state(state: RunState) -> dict[str, Any]:
    """The state as JSON-compatible data. Bundle data (the trigger, variables, the shared
    bundles of token paths) is not copied: the result holds the state's own bundle objects,
    which nothing changes in place, converted only where JSON needs it. A 10 MB trigger would
    otherwise be copied into Python objects on every save, before being encoded."""
    interner = _Interner()
    compact = replace(
        state,
        trigger_batches=[],
        variables={},
        cycle_variables={},
        persistent={},
        response=None,
        in_flight={},
        scopes={},
    )
    data: dict[str, Any] = _STATE.dump_python(compact, mode="json")
    data["in_flight"] = {key: interner.token(token) for key, token in state.in_flight.items()}
    data["scopes"] = {str(key): interner.scope(scope) for key, scope in state.scopes.items()}
    for name in ("variables", "persistent"):
        data[name] = dict(_shared(getattr(state, name)))
    if state.status is RunStatus.RUNNING:
        data["trigger_batches"] = [list(batch) for batch in _shared(state.trigger_batches)]
        data["cycle_variables"] = dict(_shared(state.cycle_variables))
    # A finished run is never stepped again: its trigger is stored with the run and its cycle
    # variables ended with the last cycle (their values are in the step logs), so neither is
    # written a second time into its state.
    data["response"] = None if state.response is None else dict(_shared(state.response))
    data["bundles"] = _shared(interner.bundles)
    return data


def _shared(value: Any) -> Any:
    # Sets and tuples never reach a state (results are JSON-compatible before they are
    # applied), so to_json_compatible's conversions are the ones needed.
    return to_json_compatible(value)


def load_state(data: Any) -> RunState:
    payload = dict(data)
    bundles = payload.pop("bundles", None)
    state = _STATE.validate_python(payload)
    if bundles is not None:
        for token in _tokens(state):
            token.path = _resolve(token.path, bundles)
    return state


def _resolve(path: Path, bundles: list[Any]) -> Path:
    # Equal references resolve to the same object, so the loaded run shares bundles again.
    return {module_id: bundles[ref[_BUNDLE_REF]] for module_id, ref in path.items()}


def dump_task(task: ModuleTask) -> dict[str, Any]:
    data: dict[str, Any] = _TASK.dump_python(task, mode="json")
    return data


def load_task(data: Any) -> ModuleTask:
    return _TASK.validate_python(data)


def dump_result(result: TaskResult) -> dict[str, Any]:
    data: dict[str, Any] = _RESULT.dump_python(result, mode="json")
    return data


def load_result(data: Any) -> TaskResult:
    return _RESULT.validate_python(data)
