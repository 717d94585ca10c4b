"""The SDK's own connection pools: how one is made, and :class:`Lanes`, the pools of a client taken in turn.

A caller's ``http_client`` is used as given instead, as the client's only lane.
"""

from __future__ import annotations

import functools
import itertools
import os
import ssl
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import httpx

from ._body import ACCEPT_ENCODING
from ._config import Timeout
from ._version import __version__

USER_AGENT = f"qubrid-video-python/{__version__}"
# Enough for thousands of concurrent generations on one client; waiting beyond is bounded by each
# call's deadline, never a pool timeout. An idle connection is dropped before the shortest common
# server idle timeout (gunicorn 2 s; uvicorn and Node 5 s; AWS ALB 60 s, nginx 75 s), with room
# for a round trip, so the server rarely closes one just as a request goes out on it (the rare
# case is resent: see closed_while_idle). Reopening costs a handshake; a generation takes minutes.
LIMITS = httpx.Limits(max_connections=4096, max_keepalive_connections=256, keepalive_expiry=1.5)
# httpcore's pool rescans all of its connections on every event, so its cost grows with the square
# of the connections in flight (profiled in bench/RESULTS.md): an async client spreads its own
# connections over this many smaller pools.
POOL_LANES = 16
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


def own_lanes(http_type: type[HttpT], timeout: Timeout, count: int) -> Lanes[HttpT]:
    """`count` pools of the SDK's own, sharing one TLS context (renewed alike after a fork)."""
    # Loading the CA bundle is most of what a pool costs to make (about 20 ms): each httpx client
    # left to itself loads its own, so sixteen lanes took a quarter of a second. httpx's own
    # factory, called as each client would call it, honours SSL_CERT_FILE and SSL_CERT_DIR alike.
    renew = functools.partial(new_pool, http_type, timeout, httpx.create_ssl_context())
    return Lanes((renew() for _ in range(count)), renew=renew)


def new_pool(http_type: type[HttpT], timeout: Timeout, tls: ssl.SSLContext) -> HttpT:
    """A pool of the SDK's own, verifying servers with `tls`, its connections watched by :mod:`._backends`."""
    http: HttpT = http_type(
        verify=tls,
        timeout=httpx.Timeout(connect=timeout.connect, read=timeout.read, write=timeout.write, pool=None),
        limits=LIMITS,
        # A generation is never answered with a redirect, and a download follows its redirects
        # itself, hop by hop, deciding at each one whether the key may go along.
        follow_redirects=False,
        # Asked for by default, not per request: overriding httpx's own default on every request
        # costs a few microseconds (see Lanes.own).
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
    )
    # Imported here, with the first pool: it brings httpcore, which httpx also imports only now.
    from ._backends import watch  # noqa: PLC0415

    watch(http)
    return http


class Lanes(Generic[HttpT]):
    """A client's connection pools, used in turn by its generations and downloads alike.

    Made with `renew` (the SDK's own pools), they follow a ``fork()``: the child's first use opens
    pools of its own. The inherited ones hold the parent's sockets, and two processes writing
    requests on one connection read each other's answers, or hang (a client made at import time
    and used in ``multiprocessing`` workers on Linux, whose default start method forks). Those are
    kept, not closed: closing takes the pool's lock, which a thread of the parent may have held
    at the fork, and the sockets stay open in the parent anyway. A caller's own ``http_client``
    is used as given, as everywhere else.
    """

    def __init__(self, pools: Iterable[HttpT], *, renew: Callable[[], HttpT] | None = None) -> None:
        self._pools: list[HttpT] = list(pools)
        # The SDK's own pools ask for ACCEPT_ENCODING already; a caller's client is asked per request.
        self.own: bool = renew is not None
        self._turn = itertools.count()
        self._renew: Callable[[], HttpT] | None = renew
        self._pid = os.getpid()
        self._inherited: list[HttpT] = []  # a forked child's copies of the parent's pools, held, never closed

    def next(self) -> HttpT:
        """The pool whose turn it is (in a forked child, from pools of the child's own)."""
        if self._renew is not None and self._pid != os.getpid():
            self._after_fork(self._renew)
        return self._pools[next(self._turn) % len(self._pools)]

    def _after_fork(self, renew: Callable[[], HttpT]) -> None:
        # Threads of the child racing here each swap in a full set; the last one's is kept, and
        # a pool another took meanwhile is one of the child's own too, so the race is harmless.
        fresh = [renew() for _ in self._pools]
        self._inherited += self._pools
        self._pools, self._pid = fresh, os.getpid()

    def __iter__(self) -> Iterator[HttpT]:
        return iter(self._pools)

    def __len__(self) -> int:
        return len(self._pools)
