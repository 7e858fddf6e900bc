"""httpcore's connection pool with a cheaper way of handing out connections.

httpcore re-examines every connection of the pool each time a request starts
or a response closes: it polls each idle socket to see whether the server hung
up, and counts idle connections once per idle connection (quadratic in the pool
size). With a pool of a few dozen connections and thousands of small registry
requests, that bookkeeping was 40 % of regcopy's CPU time in a profile of a
1,000-tag sync. This pool checks a connection only when it is about to be
reused, which finds the same dead connections (a request never goes out on a
connection that is known to be closed) at a cost independent of the pool size.

The override relies on httpcore 1.0's pool internals; :func:`lean_pool_supported`
says whether the installed httpcore is one this was written against, and
:mod:`regcopy.registry_v2.transport` falls back to the stock pool otherwise.
"""

from __future__ import annotations

import httpcore


def lean_pool_supported() -> bool:
    major, minor, *_ = (int(p) if p.isdigit() else 0 for p in httpcore.__version__.split("."))
    pool = httpcore.AsyncConnectionPool
    return (major, minor) == (1, 0) and hasattr(pool, "_assign_requests_to_connections")


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        """Assign queued requests to connections; return the connections to close.

        For each queued request: the newest live idle connection to its origin, else
        a new connection while the pool has room, else a new one in place of an idle
        connection to another origin; otherwise the request stays queued.
        """
        closing: list[httpcore.AsyncConnectionInterface] = []
        connections = self._connections
        connections[:] = [c for c in connections if not c.is_closed()]
        for pool_request in [r for r in self._requests if r.is_queued()]:
            origin = pool_request.request.url.origin
            chosen = None
            for connection in reversed(list(connections)):
                if not (connection.can_handle_request(origin) and connection.is_available()):
                    continue
                if connection.has_expired():
                    connections.remove(connection)
                    closing.append(connection)
                    continue
                chosen = connection
                break
            if chosen is None:
                if len(connections) >= self._max_connections:
                    idle = next((c for c in connections if c.is_idle()), None)
                    if idle is None:
                        continue
                    connections.remove(idle)
                    closing.append(idle)
                chosen = self.create_connection(origin)
                connections.append(chosen)
            pool_request.assign_to_connection(chosen)
        return closing
