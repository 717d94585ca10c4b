"""What an emulator remembers: the journal, credits, rate windows and idempotency records."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from ._config import EmulatorConfig, KeyPolicy
from ._faults import FaultPlan
from ._ledger import Generation, Ledger
from ._records import DownloadRecord, GenerationRecord


class EmulatorState:
    """Mutable state, shared by the server's event loop and the thread of a test driving it.

    The journal and faults are guarded by a lock because tests read and change them from their own
    thread; keys, credits, rate windows and idempotency records are in :attr:`ledger`, replaced at
    each reset.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.faults = FaultPlan()
        self.files_port: int | None = None
        # Set by Emulator.stop() before it cancels the requests still running.
        self.stopping = False
        self._lock = threading.Lock()
        self.reset(config)

    def reset(self, config: EmulatorConfig) -> None:
        """Start over under `config`: no journal, faults, spent credits, rate windows or idempotency records."""
        with self._lock:
            self.config = config
            # A new ledger rather than a cleared one: a request in flight holds the old one, and settles
            # its charge, refund, rate count and generation count there, out of the next test's way.
            self.ledger = Ledger(config.keys)
            self._requests: list[GenerationRecord] = []
            self._downloads: list[DownloadRecord] = []
            # A download still in flight across a reset belongs to the test before: its entry is dropped.
            self._since = time.time()
        self.faults.clear()

    @property
    def generations(self) -> int:
        """Generations run since the start or the last reset."""
        return self.ledger.generations

    def add_key(self, key: str, policy: KeyPolicy | None = None) -> None:
        """Accept `key` from now on, with `policy` (unlimited by default)."""
        self.ledger.add_key(key, policy or KeyPolicy())

    def credits(self, key: str) -> int | None:
        """Credits left for `key` (None: unlimited)."""
        return self.ledger.credits(key)

    def idempotent(self, key: str, idempotency_key: str) -> asyncio.Future[Generation] | None:
        """The generation already started for this idempotency key in the current period, if any."""
        return self.ledger.idempotent(key, idempotency_key)

    # The journal.

    def record_request(self, record: GenerationRecord, ledger: Ledger) -> None:
        """Append one generation request to the journal, unless it arrived before the last reset.

        Args:
            record: The entry.
            ledger: The ledger current when the request arrived.
        """
        with self._lock:
            if ledger is self.ledger and record.time >= self._since:
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
