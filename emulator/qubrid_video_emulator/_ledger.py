"""One period of an emulator's accounts: keys, credits, rate windows, idempotency records, the count.

A period runs from a start or :meth:`Emulator.reset` to the next reset. Each request holds the
period current when it arrived and settles with it only: a request still in flight across a reset
charges, refunds, rate-counts and counts its generation in the period it came in, which is
discarded, and so touches nothing of the test after it.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from collections import deque
from typing import Any

import attrs

from ._config import KeyPolicy
from ._errors import RequestError


@attrs.frozen
class Generation:
    """A finished generation, replayed verbatim to a repeat of its idempotency key."""

    generation_id: str
    fingerprint: str
    body: dict[str, Any]


class Ledger:
    """The accounts of one period; keys and credits are read and changed from a test's thread too."""

    def __init__(self, keys: dict[str, KeyPolicy]) -> None:
        self._lock = threading.Lock()
        self._keys = dict(keys)
        self._credits = {key: policy.credits for key, policy in keys.items()}
        # Rate windows and idempotency records live on the event loop only.
        self._windows: dict[str, deque[float]] = {}
        self._idempotent: dict[tuple[str, str], asyncio.Future[Generation]] = {}
        self.generations = 0

    def add_key(self, key: str, policy: KeyPolicy) -> None:
        """Accept `key` from now on, with `policy`."""
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
            balance = self._credits.get(key)
            if balance is not None:
                self._credits[key] = balance + cost

    def credits(self, key: str) -> int | None:
        """Credits left for `key` (None: unlimited)."""
        with self._lock:
            return self._credits.get(key)

    def count_generation(self) -> int:
        """Count one more generation that ran; returns its number in this period."""
        with self._lock:
            self.generations += 1
            return self.generations

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
