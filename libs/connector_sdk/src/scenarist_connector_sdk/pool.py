"""httpcore's connection pool with a linear, keep-alive-respecting assignment step.

httpcore 1.0.9 re-plans the whole pool on every request start and end
(``_assign_requests_to_connections``), and that step is where the gateway's CPU went:

* it counts *all* connections, not the idle ones, against ``max_keepalive_connections``, so with
  more calls in flight than the keep-alive limit every connection that finishes is closed and the
  next call opens a new one (TCP connect and guard resolve per call);
* the count is rebuilt inside the loop over connections (quadratic), and every idle connection
  gets a socket-readable check on every pass.

This version is one pass over the connections, then one over the queued requests. Whether an
idle connection has gone stale (past its keep-alive expiry, or closed by the server) is checked
when it is about to be handed out, and for all idle connections at most once a second, so idle
connections nobody picks are still closed when they expire.
"""

from __future__ import annotations

import time

import httpcore
from httpcore._async.interfaces import AsyncConnectionInterface

__all__ = ["LinearConnectionPool"]

_SWEEP_EVERY = 1.0  # seconds between expiry checks of every idle connection


class LinearConnectionPool(httpcore.AsyncConnectionPool):
    """Same behaviour and limits as httpcore's pool, in O(connections + queued requests)."""

    _next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing: list[AsyncConnectionInterface] = []
        kept: list[AsyncConnectionInterface] = []
        idle: list[AsyncConnectionInterface] = []
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + _SWEEP_EVERY
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection.is_idle():
                if len(idle) >= self._max_keepalive_connections or (
                    sweep and connection.has_expired()
                ):
                    closing.append(connection)
                    continue
                idle.append(connection)
            kept.append(connection)
        self._connections = kept
        queued = [request for request in self._requests if request.is_queued()]
        for pool_request in queued:
            origin = pool_request.request.url.origin
            found = self._reusable(origin, idle, closing)
            if found is None:
                if len(self._connections) >= self._max_connections:
                    if not idle:
                        continue  # waits for a connection to be released
                    stale = idle.pop(0)
                    self._connections.remove(stale)
                    closing.append(stale)
                found = self.create_connection(origin)
                self._connections.append(found)
            pool_request.assign_to_connection(found)
        return closing

    def _reusable(
        self,
        origin: httpcore.Origin,
        idle: list[AsyncConnectionInterface],
        closing: list[AsyncConnectionInterface],
    ) -> AsyncConnectionInterface | None:
        """The newest idle connection to ``origin`` that is still good (the oldest expire)."""
        for index in range(len(idle) - 1, -1, -1):
            connection = idle[index]
            if not connection.can_handle_request(origin):
                continue
            del idle[index]
            if connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
                continue
            if connection.is_available():
                return connection
        return None
