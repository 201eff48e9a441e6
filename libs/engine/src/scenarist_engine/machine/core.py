"""The state machine: given run state and one task result, the new state and the next tasks.

It does no I/O. Inline module kinds (variables, iterator, JSON, …) run right here, so the only
tasks that leave the machine are modules that wait on the outside world. Work is tracked in
scopes: a scope closes when nothing in it is live, and closing it runs the next route, emits an
aggregation or ends the cycle. An agenda (not recursion) drives it, so long chains and large
fan-outs never grow the Python stack.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from scenarist_engine.errors import ErrorType, ExpressionError, ModuleError
from scenarist_engine.filters import evaluate_filter
from scenarist_engine.iml import evaluate_mapping, evaluate_template
from scenarist_engine.machine.backoff import retry_delay
from scenarist_engine.machine.execution import eval_context, run_module
from scenarist_engine.machine.plan import Plan, read_part
from scenarist_engine.machine.state import (
    ErrorInfo,
    IncompleteExecution,
    ModuleTask,
    Operation,
    Path,
    RunState,
    RunStatus,
    Scope,
    ScopeKind,
    TaskResult,
    Token,
)
from scenarist_engine.model import Module
from scenarist_engine.modules import Role

_Event = tuple[str, Any]


class Machine:
    """One step of one run. Build it, call a step method, read `tasks`."""

    def __init__(self, plan: Plan, state: RunState, now: float) -> None:
        self.plan = plan
        self.state = state
        self.now = now
        self.tasks: list[ModuleTask] = []
        self._agenda: deque[_Event] = deque()

    # ----- entry points -------------------------------------------------------------------

    def start(self, resume: IncompleteExecution | None = None) -> list[ModuleTask]:
        if resume is None:
            self._start_cycle()
        else:
            root = self._open(ScopeKind.CYCLE, None)
            self._spawn(resume.module_id, resume.path, resume.position, root.id)
            self._agenda.append(("close", root.id))
        self._drain()
        return self.tasks

    def apply(self, result: TaskResult) -> list[ModuleTask]:
        token = self.state.in_flight.get(result.task_id)
        # A result for a finished run, an unknown task or an old attempt was applied before.
        if self.state.status is not RunStatus.RUNNING or token is None:
            return []
        if token.attempt != result.attempt:
            return []
        del self.state.in_flight[result.task_id]
        self._apply(token, result)
        self._drain()
        return self.tasks

    # ----- cycles ---------------------------------------------------------------------------

    def _start_cycle(self) -> None:
        state = self.state
        state.cycle_variables = {}
        root = self._open(ScopeKind.CYCLE, None)
        trigger = self.plan.scenario.trigger
        if self.plan.role(trigger.id) is Role.TRIGGER:
            batch = state.trigger_batches[state.cycle] if state.trigger_batches else []
            origin = self._new_token(trigger.id, {}, [], root.id)
            self._log(origin, None, batch)
            state.operations += 1
            self._emit(origin, trigger, batch)
        else:
            self._spawn(trigger.id, {}, [], root.id)
        self._agenda.append(("close", root.id))

    def _end_cycle(self) -> None:
        state = self.state
        state.cycle += 1
        more = state.cycle < min(len(state.trigger_batches), self.plan.scenario.settings.max_cycles)
        if more and self.plan.role(self.plan.scenario.trigger.id) is Role.TRIGGER:
            self._start_cycle()
            return
        state.status = RunStatus.WARNING if state.incomplete else RunStatus.SUCCESS
        state.finished_at = self.now

    # ----- the agenda -----------------------------------------------------------------------

    def _drain(self) -> None:
        while self._agenda and self.state.status is RunStatus.RUNNING:
            event, value = self._agenda.popleft()
            if event == "arrive":
                self._arrive(value)
            else:
                self._check_close(value)

    def _new_token(self, module_id: int, path: Path, position: list[int], scope: int) -> Token:
        self.state.next_token += 1
        return Token(f"t{self.state.next_token}", module_id, path, position, scope)

    def _spawn(
        self, module_id: int, path: Path, position: list[int], scope: int, **extra: Any
    ) -> Token:
        token = self._new_token(module_id, path, position, scope)
        for key, value in extra.items():
            setattr(token, key, value)
        self.state.scopes[scope].live += 1
        self._agenda.append(("arrive", token))
        return token

    def _finish(self, token: Token) -> None:
        scope = self.state.scopes.get(token.scope)
        if scope is not None:
            scope.live -= 1
            self._agenda.append(("close", scope.id))

    def _open(self, kind: ScopeKind, parent: int | None, **extra: Any) -> Scope:
        self.state.next_scope += 1
        scope = Scope(self.state.next_scope, kind, parent, **extra)
        self.state.scopes[scope.id] = scope
        if parent is not None:
            self.state.scopes[parent].live += 1
        return scope

    # ----- a token reaches a module -------------------------------------------------------

    def _arrive(self, token: Token) -> None:
        module = self.plan.modules[token.module_id]
        if not token.filtered and module.filter is not None:
            try:
                passed = evaluate_filter(module.filter, self._context(token.path))
            except ExpressionError as exc:
                self._fail(token, ErrorInfo(ErrorType.DATA.value, f"filter: {exc}"))
                return
            if not passed:
                self._finish(token)
                return
        role = self.plan.role(module.id)
        if role is Role.AGGREGATOR:
            self._collect(token, module)
        elif role is Role.ROUTER:
            self._open(ScopeKind.ROUTES, token.scope, origin=token)
            self._agenda.append(("close", self.state.next_scope))
            self._finish(token)
        elif role is Role.DIRECTIVE:
            self._directive(token, module)
        else:
            self._dispatch(token, module)

    def _dispatch(self, token: Token, module: Module) -> None:
        kind = self.plan.kinds[module.id]
        task = self._task(token, module)
        if kind.inline and task.not_before <= self.now:
            result, _ = run_module(kind, module, task, clock=lambda: self.now)
            self._apply(token, result)
            return
        self.state.in_flight[token.id] = token
        self.tasks.append(task)

    def _task(self, token: Token, module: Module, delay: float = 0.0) -> ModuleTask:
        state = self.state
        refs = self.plan.mapper_refs.get(module.id)
        path = token.path if refs is None else read_part(token.path, refs)
        return ModuleTask(
            run_id=state.execution.run_id,
            task_id=token.id,
            module_id=module.id,
            module=self.plan.module_document(module),
            path=path,
            variables=state.all_variables(),
            persistent=dict(state.persistent),
            attempt=token.attempt,
            execution=state.execution,
            now=self.now,
            not_before=self.now + delay,
        )

    # ----- results --------------------------------------------------------------------------

    def _apply(self, token: Token, result: TaskResult) -> None:
        state = self.state
        module = self.plan.modules[token.module_id]
        state.operations += 1
        self._log(token, result.inputs, result.bundles, result)
        if result.error is not None:
            self._fail(token, result.error)
            return
        target = state.cycle_variables if result.variable_scope == "cycle" else state.variables
        target.update(result.set_variables)
        state.persistent.update(result.set_persistent)
        if state.response is None and result.response is not None:
            state.response = result.response
        self._emit(token, module, result.bundles)
        self._finish(token)

    def _emit(self, origin: Token, module: Module, bundles: list[dict[str, Any]]) -> None:
        """Send a module's output bundles on to the module after it."""
        scope_id = origin.scope
        # The first aggregator in flow order gets the innermost scope, so it closes first:
        # aggregators of one feeder in different routes emit in route order, as routes run.
        for aggregator_id in reversed(self.plan.aggregator_of_feeder.get(module.id, [])):
            scope = self._open(
                ScopeKind.AGGREGATE, scope_id, origin=origin, aggregator_id=aggregator_id
            )
            self._agenda.append(("close", scope.id))
            scope_id = scope.id
        following = self.plan.next_module[module.id]
        if following is None or not bundles:
            return
        paths = [
            ({**origin.path, module.id: bundle}, [*origin.position, index])
            for index, bundle in enumerate(bundles)
        ]
        # Down an error-handler route every module still answers for the failed token, so the
        # directive that ends the route (after any number of modules) knows what it resumes.
        self._spawn_many(following, paths, scope_id, origin.handler_for)

    def _spawn_many(
        self,
        module_id: int,
        paths: list[tuple[Path, list[int]]],
        scope: int,
        handler_for: Token | None = None,
    ) -> None:
        if len(paths) == 1:
            self._spawn(module_id, paths[0][0], paths[0][1], scope, handler_for=handler_for)
            return
        limit = self.plan.scenario.settings.parallel_bundles
        bundles = self._open(ScopeKind.BUNDLES, scope, limit=limit)
        bundles.queue = [self._new_token(module_id, path, pos, bundles.id) for path, pos in paths]
        for token in bundles.queue:
            token.handler_for = handler_for
        self._agenda.append(("close", bundles.id))

    def _log(
        self,
        token: Token,
        inputs: Any,
        output: list[dict[str, Any]] | None,
        result: TaskResult | None = None,
        counted: bool = True,
    ) -> None:
        self.state.log.append(
            Operation(
                module_id=token.module_id,
                task_id=token.id,
                attempt=token.attempt,
                cycle=self.state.cycle,
                inputs=inputs,
                output=None if result is not None and result.error else output,
                error=result.error if result is not None else None,
                started_at=result.started_at if result is not None else self.now,
                finished_at=result.finished_at if result is not None else self.now,
                counted=counted,
            )
        )

    def _context(self, path: Path) -> Any:
        probe = ModuleTask(
            run_id=self.state.execution.run_id,
            task_id="filter",
            module_id=0,
            module={},
            path=path,
            variables=self.state.all_variables(),
            persistent={},
            attempt=1,
            execution=self.state.execution,
            now=self.now,
        )
        return eval_context(probe)

    # ----- scopes close -------------------------------------------------------------------

    def _check_close(self, scope_id: int) -> None:
        scope = self.state.scopes.get(scope_id)
        if scope is None:
            return
        if scope.queue and (scope.limit <= 0 or scope.live < scope.limit):
            # A window: a bundle that is done makes room for the next at once (released in
            # waves, each wave waited for its slowest bundle).
            self._release(scope)
            return
        if scope.live > 0 or scope.queue:
            return
        if scope.kind is ScopeKind.ROUTES and self._next_route(scope):
            return
        if scope.kind is ScopeKind.AGGREGATE:
            self._aggregate(scope)
            if self.state.status is not RunStatus.RUNNING:
                return  # the aggregation failed and stopped the run, which cleared every scope
        del self.state.scopes[scope.id]
        if scope.kind is ScopeKind.CYCLE:
            self._end_cycle()
            return
        if scope.parent is not None:
            self.state.scopes[scope.parent].live -= 1
            self._agenda.append(("close", scope.parent))

    def _release(self, scope: Scope) -> None:
        room = len(scope.queue) if scope.limit <= 0 else scope.limit - scope.live
        count = min(room, len(scope.queue))
        released, scope.queue = scope.queue[:count], scope.queue[count:]
        scope.live += len(released)
        self._agenda.extend(("arrive", token) for token in released)

    def _next_route(self, scope: Scope) -> bool:
        """Start the next route whose filter passes; the fallback only if none matched."""
        assert scope.origin is not None
        routes = self.plan.modules[scope.origin.module_id].routes
        while scope.route_index < len(routes):
            scope.route_index += 1
            if scope.route_index == len(routes):
                fallback = next((r for r in routes if r.fallback and r.flow), None)
                if scope.matched or fallback is None:
                    return False
                return self._start_route(scope, fallback.flow[0])
            route = routes[scope.route_index]
            if route.fallback or not route.flow:
                continue
            if self._route_matches(route.flow[0], scope.origin.path):
                scope.matched = True
                return self._start_route(scope, route.flow[0])
        return False

    def _route_matches(self, first: Module, path: Path) -> bool:
        try:
            return evaluate_filter(first.filter, self._context(path))
        except ExpressionError:
            return False

    def _start_route(self, scope: Scope, first: Module) -> bool:
        assert scope.origin is not None
        self._spawn(first.id, scope.origin.path, scope.origin.position, scope.id, filtered=True)
        return True

    # ----- aggregators ----------------------------------------------------------------------

    def _collect(self, token: Token, module: Module) -> None:
        scope = self._aggregate_scope(token.scope, module.id)
        if scope is None:
            message = "aggregator reached without its feeder module on the path"
            self._fail(token, ErrorInfo(ErrorType.RUNTIME.value, message))
            return
        context = self._context(token.path)
        try:
            feeder = self.plan.feeder_of_aggregator[module.id]
            item = (
                evaluate_mapping(module.mapper, context, field="mapper")
                if module.mapper
                else token.path.get(feeder)
            )
            group = module.flags.get("groupBy")
            key = evaluate_template(group, context) if isinstance(group, str) and group else None
        except ExpressionError as exc:
            self._fail(token, ErrorInfo(ErrorType.DATA.value, str(exc)))
            return
        scope.items.append((token.position, key, item))
        self._finish(token)

    def _aggregate_scope(self, scope_id: int | None, aggregator_id: int) -> Scope | None:
        while scope_id is not None:
            scope = self.state.scopes[scope_id]
            if scope.kind is ScopeKind.AGGREGATE and scope.aggregator_id == aggregator_id:
                return scope
            scope_id = scope.parent
        return None

    def _aggregate(self, scope: Scope) -> None:
        assert scope.origin is not None and scope.aggregator_id is not None
        module = self.plan.modules[scope.aggregator_id]
        aggregate = self.plan.kinds[module.id].aggregate
        assert aggregate is not None
        items = sorted(scope.items, key=lambda entry: entry[0])
        if not items and module.flags.get("stopIfEmpty"):
            return
        origin = scope.origin
        token = self._new_token(module.id, origin.path, origin.position, scope.parent or 0)
        # With no items there is no group key: the empty aggregation is one bundle.
        grouped = bool(module.flags.get("groupBy")) and bool(items)
        try:
            bundles = (
                _grouped_bundles(module, items, aggregate)
                if grouped
                else [dict(aggregate(module, [item for _, _, item in items]))]
            )
        except ModuleError as exc:
            self._aggregation_failed(token, ErrorInfo(exc.error_type.value, exc.message))
            return
        except Exception as exc:  # a bug in an aggregate function fails the module, not the run
            message = f"{type(exc).__name__}: {exc}"
            self._aggregation_failed(token, ErrorInfo(ErrorType.RUNTIME.value, message))
            return
        self._log(token, None, bundles)
        self.state.operations += 1
        following = self.plan.next_module[module.id]
        if following is not None and bundles and scope.parent is not None:
            paths = [
                ({**origin.path, module.id: bundle}, [*origin.position, index])
                for index, bundle in enumerate(bundles)
            ]
            self._spawn_many(following, paths, scope.parent)

    def _aggregation_failed(self, token: Token, error: ErrorInfo) -> None:
        """An aggregation that raised is a failed operation of the aggregator, handled like any
        other module failure (error handler, incomplete execution or rollback)."""
        self.state.operations += 1
        failed = TaskResult(
            run_id=self.state.execution.run_id,
            task_id=token.id,
            attempt=token.attempt,
            error=error,
            started_at=self.now,
            finished_at=self.now,
        )
        self._log(token, None, None, failed)
        # The token is live in the parent scope until its failure is handled, like a spawned one.
        self.state.scopes[token.scope].live += 1
        # No retry: the aggregation is pure, a second attempt would fail the same way.
        self._handle_failure(token, error)

    # ----- errors ----------------------------------------------------------------------------

    def _fail(self, token: Token, error: ErrorInfo) -> None:
        module = self.plan.modules[token.module_id]
        if self._retry(token, module, error):
            return
        self._handle_failure(token, error)

    def _handle_failure(self, token: Token, error: ErrorInfo) -> None:
        module = self.plan.modules[token.module_id]
        if module.onerror:
            handler = self._open(ScopeKind.HANDLER, token.scope, origin=token)
            error_bundle = {"error": {"type": error.type, "message": error.message}}
            path = {**token.path, module.id: error_bundle}
            self._spawn(module.onerror[0].id, path, token.position, handler.id, handler_for=token)
            self._finish(token)
            return
        if self.plan.scenario.settings.store_incomplete:
            self._park(token, error, {})
            self._finish(token)
            return
        self._stop(RunStatus.ERROR, error)

    def _retry(self, token: Token, module: Module, error: ErrorInfo) -> bool:
        policy = module.retry
        try:
            retryable = ErrorType(error.type).retryable
        except ValueError:
            retryable = False
        if policy is None or not retryable or token.attempt >= policy.max_attempts:
            return False
        salt = f"{self.state.execution.run_id}/{token.id}"
        delay = retry_delay(policy, token.attempt, salt)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        token.attempt += 1
        self.state.in_flight[token.id] = token
        self.tasks.append(self._task(token, module, delay))
        return True

    def _directive(self, token: Token, module: Module) -> None:
        failed = token.handler_for
        assert failed is not None
        error_bundle = token.path.get(failed.module_id, {}).get("error", {})
        error = ErrorInfo(str(error_bundle.get("type")), str(error_bundle.get("message")))
        self._log(token, None, None, counted=False)
        name = module.module.split(":")[-1]
        if name == "Resume":
            self._resume(token, module, failed)
        elif name == "Break":
            self._park(failed, error, module.mapper)
        elif name == "Commit":
            self._stop(RunStatus.SUCCESS, None)
            return
        elif name == "Rollback":
            self._stop(RunStatus.ERROR, error)
            return
        self._finish(token)

    def _resume(self, token: Token, module: Module, failed: Token) -> None:
        try:
            output = evaluate_mapping(module.mapper, self._context(token.path), field="mapper")
        except ExpressionError as exc:
            self._stop(RunStatus.ERROR, ErrorInfo(ErrorType.DATA.value, str(exc)))
            return
        self._emit(failed, self.plan.modules[failed.module_id], [output])

    def _park(self, token: Token, error: ErrorInfo, settings: dict[str, Any]) -> None:
        retry = bool(settings.get("retry", True)) if settings else False
        self.state.incomplete.append(
            IncompleteExecution(
                id=f"{self.state.execution.run_id}/{token.id}",
                module_id=token.module_id,
                path=token.path,
                position=token.position,
                error=error,
                attempts=token.attempt,
                retry_count=int(settings.get("count", 3)) if retry else 0,
                retry_interval_minutes=float(settings.get("interval", 15)) if retry else 0.0,
            )
        )

    def _stop(self, status: RunStatus, error: ErrorInfo | None) -> None:
        state = self.state
        state.status = status
        state.error = error
        state.in_flight.clear()
        state.scopes.clear()
        self.tasks.clear()
        self._agenda.clear()
        state.finished_at = self.now


def _grouped_bundles(module: Module, items: list[Any], aggregate: Any) -> list[dict[str, Any]]:
    groups: dict[str, tuple[Any, list[Any]]] = {}
    for _, key, item in items:
        marker = repr(key)
        groups.setdefault(marker, (key, []))[1].append(item)
    return [{"key": key, **aggregate(module, members)} for key, members in groups.values()]
