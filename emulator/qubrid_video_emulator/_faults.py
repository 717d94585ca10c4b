"""Failure on demand: which fault the next request gets, by queue (the next N) or by chance (a fraction)."""

from __future__ import annotations

import enum
import random
import threading
from collections import deque

import attrs


class FaultKind(enum.StrEnum):
    """Every failure the emulator can produce.

    The HTTP statuses answer with the spec's own error body; the rest imitate what networks and
    proxies do. ``DROP_MID`` and ``MALFORMED_JSON`` happen after the generation ran (it is
    recorded, and billed), which is what makes a client's retry policy matter.
    """

    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    GATEWAY_TIMEOUT = "504"
    RATE_LIMITED = "429"
    SLOW = "slow"
    DROP_BEFORE = "drop_before"
    DROP_MID = "drop_mid"
    HTML = "html"
    MALFORMED_JSON = "malformed_json"
    DROP_DOWNLOAD = "drop_download"
    SLOW_DOWNLOAD = "slow_download"

    @property
    def target(self) -> str:
        """``"download"`` for faults of the video file route, ``"api"`` for the generation route."""
        return "download" if self in (FaultKind.DROP_DOWNLOAD, FaultKind.SLOW_DOWNLOAD) else "api"


@attrs.frozen
class Fault:
    """One fault to inject, with its knobs.

    Attributes:
        kind: What goes wrong.
        delay: Seconds a ``SLOW`` answer waits before answering normally, or a ``SLOW_DOWNLOAD`` spreads its body over.
        retry_after: Seconds a ``429`` asks the client to wait (sent as ``Retry-After`` and ``retry-after-ms``).
        cut_at: Fraction of the body sent before a ``DROP_MID`` or ``DROP_DOWNLOAD`` closes the connection.
    """

    kind: FaultKind = attrs.field(converter=FaultKind)
    delay: float = 5.0
    retry_after: float = 1.0
    cut_at: float = 0.5


class FaultPlan:
    """Thread-safe schedule of faults; tests change it while the server runs in another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, deque[Fault]] = {"api": deque(), "download": deque()}
        self._rate = 0.0
        self._kinds: tuple[Fault, ...] = ()
        self._random = random.Random(0)  # noqa: S311 - chance of a simulated fault, not security

    def add(self, fault: Fault, count: int = 1) -> None:
        """Answer the next `count` requests of the fault's route with `fault`."""
        with self._lock:
            self._queued[fault.kind.target].extend([fault] * count)

    def set_rate(self, rate: float, faults: list[Fault], seed: int = 0) -> None:
        """Give each request (after the queue is spent) a `rate` chance of one of `faults`, reproducibly."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._rate, self._kinds, self._random = rate, tuple(faults), random.Random(seed)  # noqa: S311

    def clear(self) -> None:
        """No more faults, queued or random."""
        with self._lock:
            for queue in self._queued.values():
                queue.clear()
            self._rate, self._kinds = 0.0, ()

    def next_fault(self, target: str) -> Fault | None:
        """The fault for the next request on `target` (``"api"`` or ``"download"``), if any."""
        with self._lock:
            if self._queued[target]:
                return self._queued[target].popleft()
            candidates = [f for f in self._kinds if f.kind.target == target]
            if candidates and self._random.random() < self._rate:
                return self._random.choice(candidates)
            return None

    def pending(self) -> int:
        """How many queued faults are still to come."""
        with self._lock:
            return sum(len(queue) for queue in self._queued.values())
