"""Saving a big run state a piece at a time (docs/adr/0008-state-entries.md).

A fan-out's state holds a token per item in flight and an aggregated item per result: saved
whole after every result batch, a 1,000-item fan-out wrote (and the orchestrator dumped and
encoded) its whole state a thousand times over. Above `SPLIT_AT` tokens and items a run's state
is saved as a small core plus keyed entries — a token in flight or queued, an aggregated item,
a shared bundle, the trigger — and each save puts the entries that changed and drops the ones
that went.

A `StateSaver` remembers, per run, what the store holds. `delta` advances it as if the delta
were stored: a caller whose delta was not stored (rejected, or the save failed) must drop the
saver with the run and load both again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from scenarist_engine.machine.state import (
    RunState,
    RunStatus,
    Scope,
    Token,
    _Interner,
    _shared,
    _tokens,
    dump_state,
    load_state,
)

ENTRIES = "$entries"  # in a split core: how many entries go with it
SPLIT_AT = 64  # tokens and aggregated items above which a running state is split
TOKEN, QUEUED, ITEM, BUNDLE, TRIGGER = "t:", "q:", "i:", "b:", "x:trigger"


@dataclass
class StateDelta:
    core: dict[str, Any]
    entries: dict[str, Any] = field(default_factory=dict)  # put: inserted or replaced
    dropped: list[str] = field(default_factory=list)


class _Pinned(_Interner):
    """An interner whose refs outlive one dump: a bundle keeps its ref, and its entry, while a
    token of the run holds it, so a token's dump stays valid from one save to the next."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0  # refs below this have their entries put
        self.live_at_check = 0

    def evict_unused(self, state: RunState) -> list[int]:
        """Forget bundles no token holds any more; their refs."""
        held = {id(bundle) for token in _tokens(state) for bundle in token.path.values()}
        gone = [ref for key, ref in self.index.items() if key not in held]
        for ref in gone:
            del self.index[id(self.bundles[ref])]
            self.bundles[ref] = None  # refs stay stable: the list keeps its holes
        self.live_at_check = len(self.index)
        return gone


class StateSaver:
    def __init__(self, stored: Iterable[str] = ()) -> None:
        self._stored: set[str] = set(stored)
        self._unsure = set(self._stored)  # loaded, not yet rewritten by this saver
        self._forget_written()

    def _forget_written(self) -> None:
        self._interner = _Pinned()
        self._tokens: dict[str, tuple[Token, int, Any]] = {}  # in flight: token, attempt, dump
        self._items: dict[int, tuple[Scope, int]] = {}  # scope id -> (scope, items put)
        # scope id -> (its queue when first put, the index of the first entry still stored):
        # a queue only ever loses tokens from its front (released), so it stays a suffix.
        self._queues: dict[int, tuple[list[Token], int]] = {}
        self._trigger: Any = None  # the trigger batches put

    def delta(self, state: RunState, *, final: bool = False) -> StateDelta:
        """`final`: the run is never stepped again (finished, or cancelled while the engine
        still has it running), so it keeps no entries."""
        if final or state.status is not RunStatus.RUNNING:
            return self._inline(state)
        if not self._stored and _size(state) <= SPLIT_AT:
            return self._inline(state)
        delta = StateDelta(core={})
        self._put_tokens(state, delta)
        self._put_items(state, delta)
        self._put_queues(state, delta)
        if state.trigger_batches is not self._trigger:
            self._trigger = state.trigger_batches
            delta.entries[TRIGGER] = [list(batch) for batch in _shared(state.trigger_batches)]
        delta.core = self._core(state)  # after the tokens: it may hold queued ones
        self._put_bundles(state, delta)
        delta.dropped.extend(self._unsure.difference(delta.entries))
        self._unsure.clear()
        self._stored.difference_update(delta.dropped)
        self._stored.update(delta.entries)
        delta.core[ENTRIES] = len(self._stored)
        return delta

    def _inline(self, state: RunState) -> StateDelta:
        delta = StateDelta(core=dump_state(state), dropped=sorted(self._stored))
        self._stored.clear()
        self._unsure.clear()
        self._forget_written()  # split again later, it starts from nothing stored
        return delta

    def _put_tokens(self, state: RunState, delta: StateDelta) -> None:
        saved = self._tokens
        for key in saved.keys() - state.in_flight.keys():
            del saved[key]
            delta.dropped.append(TOKEN + key)
        for key, token in state.in_flight.items():
            known = saved.get(key)
            # An in-flight token changes only by a retry (the same token, one attempt more).
            if known is None or known[0] is not token or known[1] != token.attempt:
                dumped = self._interner.token(token)
                saved[key] = (token, token.attempt, dumped)
                delta.entries[TOKEN + key] = dumped

    def _put_items(self, state: RunState, delta: StateDelta) -> None:
        for scope_id in self._items.keys() - state.scopes.keys():
            _, written = self._items.pop(scope_id)
            delta.dropped.extend(_keys(ITEM, scope_id, 0, written))
        for scope in state.scopes.values():
            if not scope.items and scope.id not in self._items:
                continue
            known, written = self._items.get(scope.id, (scope, 0))
            if known is not scope or len(scope.items) < written:  # not one list grown: rewrite
                delta.dropped.extend(_keys(ITEM, scope.id, len(scope.items), written))
                written = 0
            for index in range(written, len(scope.items)):
                position, key, item = scope.items[index]
                delta.entries[f"{ITEM}{scope.id}:{index}"] = [
                    list(position),
                    _shared(key),
                    _shared(item),
                ]
            self._items[scope.id] = (scope, len(scope.items))

    def _put_queues(self, state: RunState, delta: StateDelta) -> None:
        for scope_id in self._queues.keys() - state.scopes.keys():
            first, start = self._queues.pop(scope_id)
            delta.dropped.extend(_keys(QUEUED, scope_id, start, len(first)))
        for scope in state.scopes.values():
            queue = scope.queue
            first, start = self._queues.get(scope.id, ([], 0))
            if not queue and not first:
                continue
            now = len(first) - len(queue)
            if now >= start and (not queue or (queue[0] is first[now] and queue[-1] is first[-1])):
                delta.dropped.extend(_keys(QUEUED, scope.id, start, now))
                self._queues[scope.id] = (first, now)
                continue
            # Another queue: its entries replace the old ones, and the old ones beyond it go.
            delta.dropped.extend(_keys(QUEUED, scope.id, max(start, len(queue)), len(first)))
            for index, token in enumerate(queue):
                delta.entries[f"{QUEUED}{scope.id}:{index}"] = self._interner.token(token)
            self._queues[scope.id] = (list(queue), 0)

    def _put_bundles(self, state: RunState, delta: StateDelta) -> None:
        interner = self._interner
        if len(interner.index) > 2 * interner.live_at_check + SPLIT_AT:
            for ref in interner.evict_unused(state):
                if ref < interner.written:
                    delta.dropped.append(f"{BUNDLE}{ref}")
        for ref in range(interner.written, len(interner.bundles)):
            bundle = interner.bundles[ref]
            if bundle is not None:
                delta.entries[f"{BUNDLE}{ref}"] = _shared(bundle)
        interner.written = len(interner.bundles)

    def _core(self, state: RunState) -> dict[str, Any]:
        """The state without what entries hold; a scope's origin token stays in it, its
        bundles by reference."""
        compact = replace(state, in_flight={}, scopes={}, trigger_batches=[])
        core = dump_state(compact)
        core.pop("bundles")
        core["scopes"] = {
            str(key): self._interner.scope(replace(scope, items=[], queue=[]))
            for key, scope in state.scopes.items()
        }
        return core


def load_split_state(core: dict[str, Any], entries: dict[str, Any]) -> RunState:
    """A state saved by a StateSaver: its core (split or not) and its entries."""
    payload = dict(core)
    expected = payload.pop(ENTRIES, None)
    if expected is None:
        return load_state(payload)
    if expected != len(entries):
        raise ValueError(f"the state has {expected} entries, {len(entries)} were read")
    in_flight: dict[str, Any] = {}
    listed: dict[tuple[str, str], list[tuple[int, Any]]] = {}  # (field, scope id) -> values
    bundles: dict[int, Any] = {}
    for key, value in entries.items():
        if key.startswith(TOKEN):
            in_flight[key[len(TOKEN) :]] = value
        elif key.startswith((ITEM, QUEUED)):
            scope_id, _, index = key[2:].partition(":")
            name = "items" if key.startswith(ITEM) else "queue"
            listed.setdefault((name, scope_id), []).append((int(index), value))
        elif key.startswith(BUNDLE):
            bundles[int(key[len(BUNDLE) :])] = value
        elif key == TRIGGER:
            payload["trigger_batches"] = value
        else:
            raise ValueError(f"unknown state entry {key!r}")
    payload["in_flight"] = in_flight
    payload["scopes"] = {key: dict(scope) for key, scope in payload["scopes"].items()}
    for (name, scope_id), found in listed.items():
        found.sort(key=lambda pair: pair[0])
        payload["scopes"][scope_id][name] = [value for _, value in found]
    payload["bundles"] = bundles
    return load_state(payload)


def split_core(core: Any) -> bool:
    """Whether a stored core goes with entries (load them, then `load_split_state`)."""
    return isinstance(core, dict) and ENTRIES in core


def _size(state: RunState) -> int:
    return len(state.in_flight) + sum(len(s.items) + len(s.queue) for s in state.scopes.values())


def _keys(prefix: str, scope_id: int, start: int, stop: int) -> list[str]:
    return [f"{prefix}{scope_id}:{index}" for index in range(start, stop)]
