"""What an emulator remembers: the journal, credits, rate windows and idempotency records."""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from collections import deque
from typing import Any

import attrs

from ._config import EmulatorConfig, KeyPolicy
from ._errors import RequestError
from ._faults import FaultPlan
from ._records import DownloadRecord, GenerationRecord


@attrs.frozen
class Generation:
    """A finished generation, replayed verbatim to a repeat of its idempotency key."""

    generation_id: str
    fingerprint: str
    body: dict[str, Any]


class EmulatorState:
    """Mutable state, shared by the server's event loop and the thread of a test driving it.

    The journal, faults and keys are guarded by a lock because tests read and change them from
    their own thread; credits, rate windows and idempotency records live on the event loop only.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.faults = FaultPlan()
        self.files_port: int | None = None
        self._lock = threading.Lock()
        self.reset(config)

    def reset(self, config: EmulatorConfig) -> None:
        """Start over under `config`: no journal, faults, spent credits, rate windows or idempotency records."""
        with self._lock:
            self.config = config
            self._keys = dict(config.keys)
            self._credits = {key: policy.credits for key, policy in config.keys.items()}
            self._requests: list[GenerationRecord] = []
            self._downloads: list[DownloadRecord] = []
            # A request still in flight across a reset belongs to the test before: its entry is dropped.
            self._since = time.time()
            # New objects rather than cleared ones: the event loop may be using the old ones right now.
            self._windows: dict[str, deque[float]] = {}
            self._idempotent: dict[tuple[str, str], asyncio.Future[Generation]] = {}
            self.generations = 0
        self.faults.clear()

    # Keys and their limits.

    def add_key(self, key: str, policy: KeyPolicy | None = None) -> None:
        """Accept `key` from now on, with `policy` (unlimited by default)."""
        policy = policy or KeyPolicy()
        with self._lock:
            self._keys[key] = policy
            self._credits[key] = policy.credits

    def authenticate(self, header: str | None) -> tuple[str, KeyPolicy]:
        """Return the key and its policy, or raise 401 ``missing_api_key`` / ``invalid_api_key``."""
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if not header or scheme.lower() != "bearer" or not token:
            raise RequestError(401, "Missing authentication credentials.", code="missing_api_key")
        with self._lock:
            keys = list(self._keys.items())
        found: tuple[str, KeyPolicy] | None = None
        for key, policy in keys:
            # Compare against every key in constant time, so timing reveals neither key nor match.
            if hmac.compare_digest(key.encode(), token.encode()):
                found = (key, policy)
        if found is None:
            raise RequestError(401, "Invalid API key provided.", code="invalid_api_key")
        return found

    def check_rate(self, key: str, policy: KeyPolicy) -> None:
        """Count a request against the key's per-minute limit; raise 429 with ``Retry-After`` past it."""
        if policy.rate_limit is None:
            return
        now = time.monotonic()
        window = self._windows.setdefault(key, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= policy.rate_limit:
            wait = max(1, int(60 - (now - window[0])) + 1)
            raise RequestError(429, headers={"Retry-After": str(wait), "retry-after-ms": str(wait * 1000)})
        window.append(now)

    def charge(self, key: str, cost: int) -> None:
        """Take `cost` credits from the key, or raise 402 if it has fewer."""
        with self._lock:
            balance = self._credits.get(key)
            if balance is None:
                return
            if balance < cost:
                raise RequestError(402)
            self._credits[key] = balance - cost

    def refund(self, key: str, cost: int) -> None:
        """Give back credits for a generation that failed on our side."""
        with self._lock:
            if self._credits.get(key) is not None:
                self._credits[key] = (self._credits[key] or 0) + cost

    def credits(self, key: str) -> int | None:
        """Credits left for `key` (None: unlimited)."""
        with self._lock:
            return self._credits.get(key)

    # Idempotency: one generation per (key, Idempotency-Key).

    def idempotent(self, key: str, idempotency_key: str) -> asyncio.Future[Generation] | None:
        """The generation already started for this idempotency key, if any."""
        return self._idempotent.get((key, idempotency_key))

    def claim(self, key: str, idempotency_key: str) -> asyncio.Future[Generation]:
        """Reserve the idempotency key for a generation about to start."""
        future: asyncio.Future[Generation] = asyncio.get_running_loop().create_future()
        self._idempotent[(key, idempotency_key)] = future
        return future

    def release(self, key: str, idempotency_key: str) -> None:
        """Forget a claim whose generation never completed, so a retry can run it."""
        self._idempotent.pop((key, idempotency_key), None)

    # The journal.

    def record_request(self, record: GenerationRecord) -> None:
        """Append one generation request to the journal (unless it arrived before the last reset)."""
        with self._lock:
            if record.time >= self._since:
                self._requests.append(record)

    def record_download(self, record: DownloadRecord) -> None:
        """Append one video download to the journal (unless it arrived before the last reset)."""
        with self._lock:
            if record.time >= self._since:
                self._downloads.append(record)

    def requests(self) -> list[GenerationRecord]:
        """The generation requests received, oldest first (a new list of the frozen entries)."""
        with self._lock:
            return list(self._requests)

    def downloads(self) -> list[DownloadRecord]:
        """The downloads received, oldest first (a new list of the frozen entries)."""
        with self._lock:
            return list(self._downloads)

    def journal(self) -> dict[str, list[dict[str, Any]]]:
        """A copy of everything received, as plain dicts (see ``_records.py``): ``{"requests", "downloads"}``."""
        with self._lock:
            requests, downloads = list(self._requests), list(self._downloads)
        return {"requests": [r.as_dict() for r in requests], "downloads": [d.as_dict() for d in downloads]}

    def clear_journal(self) -> None:
        """Forget what was received (faults, keys and credits are kept)."""
        with self._lock:
            self._requests.clear()
            self._downloads.clear()
