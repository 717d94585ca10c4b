"""Run the emulator: in a background thread for test suites, or in the foreground for the CLI."""

from __future__ import annotations

import functools
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from ._app import EmulatorApp
from ._config import EmulatorConfig, KeyPolicy
from ._connections import Server, protocol_class
from ._faults import Fault, FaultKind
from ._records import DownloadRecord, GenerationRecord
from ._spec import api_prefix
from ._state import EmulatorState
from ._store import VideoStore


class _Terminated(Exception):
    """SIGTERM arrived while serving in the foreground: stop as after Ctrl-C, cleaning up."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


# Read once, when the server starts: a reset cannot change them under a running server.
_FIXED_AT_START = ("same_origin_files", "render_workers", "idle_timeout")
# Seconds stop() lets requests in flight finish before cancelling them.
_GRACE = 1.0


def _origin(host: str, sock: socket.socket) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{sock.getsockname()[1]}"


class Emulator:
    """A local Qubrid Video API: real videos, every documented error, faults on demand.

    Use it as a context manager; it serves on free loopback ports in a background thread::

        with Emulator() as emulator:
            client = Qubrid(api_key=emulator.api_key, base_url=emulator.base_url)

    Attributes:
        config: The settings it runs with.
        state: Its journal, faults and keys (also reachable through the methods below).
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        files_port: int = 0,
    ) -> None:
        """Prepare an emulator; nothing listens until :meth:`start` or ``with``.

        Args:
            config: Keys, models, latency and limits; the defaults accept ``DEFAULT_API_KEY``.
            host: Interface to listen on.
            port: API port (0: a free one).
            files_port: Port of the emulated CDN serving the videos (0: a free one). Ignored when
                ``config.same_origin_files`` is set.
        """
        self.config = config or EmulatorConfig()
        self.state = EmulatorState(self.config)
        self._host, self._port, self._files_port = host, port, files_port
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: Server | None = None
        self._stopped_by: signal.Signals | None = None
        self._thread: threading.Thread | None = None
        self._store: VideoStore | None = None
        self._sockets: list[socket.socket] = []
        self.origin = ""
        self.files_origin = ""

    @property
    def base_url(self) -> str:
        """The API's base URL, as the SDK's ``base_url`` takes it (``http://127.0.0.1:PORT/v1``)."""
        return self.origin + api_prefix()

    @property
    def api_key(self) -> str:
        """The first configured API key."""
        return next(iter(self.config.keys))

    def _prepare(self) -> Server:
        self.state.stopping = False
        self._tmp = tempfile.TemporaryDirectory(prefix="qubrid-emulator-")
        self._store = VideoStore(Path(self._tmp.name), self.config.render_workers)
        api = _listen(self._host, self._port)
        self._sockets = [api]
        self.origin = self.files_origin = _origin(self._host, api)
        if not self.config.same_origin_files:
            files = _listen(self._host, self._files_port)
            self._sockets.append(files)
            self.state.files_port = files.getsockname()[1]
            self.files_origin = _origin(self._host, files)
        app = EmulatorApp(self.state, self._store)
        config = uvicorn.Config(
            app,
            http=protocol_class(self.config.idle_timeout),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
            backlog=4096,
        )
        self._server = Server(config)
        return self._server

    def start(self) -> Emulator:
        """Start serving in a background thread; returns once it accepts connections."""
        server = self._prepare()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": self._sockets}, name="qubrid-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Qubrid emulator did not start")
            time.sleep(0.005)
        return self

    def run(self, ready: Callable[[Emulator], None] | None = None) -> None:
        """Serve in the foreground until stopped; `ready` is called once listening.

        Ctrl-C stops it and raises ``KeyboardInterrupt`` (as uvicorn does); SIGTERM stops it and
        returns normally. Either way the rendered videos and the temporary folder are deleted. A
        SIGINT ignored when it is called (a background job) stays ignored: stop it with SIGTERM.
        """
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it under the handler that was
        # there before; with the default handler that would kill the process before the cleanup.
        foreground = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if foreground else None
        try:
            server = self._prepare()
            server.sigint_ignored = foreground and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            if ready is not None:
                server.on_ready = functools.partial(ready, self)
            server.run(sockets=self._sockets)
        except _Terminated:
            self._stopped_by = signal.SIGTERM
        except KeyboardInterrupt:
            self._stopped_by = signal.SIGINT
            raise
        finally:
            if foreground:
                signal.signal(signal.SIGTERM, previous)
            self._cleanup()

    @property
    def stopped_by(self) -> signal.Signals | None:
        """The signal that stopped :meth:`run`, if one did (the first one, when several came)."""
        first = self._server.stopped_by if self._server is not None else None
        return first or self._stopped_by

    def stop(self) -> None:
        """Stop serving and delete the rendered videos.

        Requests answered within a second are answered; any still running then (a slow fault, a long
        latency) are cancelled, so that stopping takes a second or two, not as long as they would.
        """
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(_GRACE)
            if self._thread.is_alive() and self._server is not None:
                # uvicorn would wait for every connection to close: cancel what is left instead.
                self.state.stopping = True
                self._server.force_exit = True
                self._thread.join(30)
            if self._thread.is_alive():
                # Still serving (a render that does not end): leave its folder, deleted at exit.
                self._close_sockets()
                return
            self._thread = None
        self._cleanup()

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    def _cleanup(self) -> None:
        self._close_sockets()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Driving it from a test.

    def inject(self, kind: FaultKind | str, count: int = 1, **knobs: float) -> None:
        """Answer the next `count` requests of the fault's route with `kind` (see :class:`Fault`)."""
        self.state.faults.add(Fault(FaultKind(kind), **knobs), count)

    def set_fault_rate(
        self, rate: float, kinds: list[FaultKind | str] | None = None, seed: int = 0, **knobs: float
    ) -> None:
        """Give each request a `rate` chance of one of `kinds` (all kinds by default), reproducibly."""
        faults = [Fault(FaultKind(k), **knobs) for k in (kinds or list(FaultKind))]
        self.state.faults.set_rate(rate, faults, seed)

    def clear_faults(self) -> None:
        """Cancel every queued and random fault."""
        self.state.faults.clear()

    def add_key(
        self, key: str, *, credits: int | None = None, models: list[str] | None = None, rate_limit: int | None = None
    ) -> None:
        """Accept another API key, with its own credits, model permissions and rate limit."""
        self.state.add_key(key, KeyPolicy(credits=credits, models=models, rate_limit=rate_limit))

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """Start over, as if just started: for the next test on a server shared by many.

        Forgets the journal, queued and random faults, keys added since, credits spent, rate-limit
        windows, idempotency keys seen and the :attr:`generations` count, and restores the keys and
        their policies from the config. Rendered videos are kept (they depend only on what was
        asked), and the server keeps its ports. A request still in flight is answered, but not
        journaled, and settles with the state it arrived in: its charge, refund, rate count and
        generation count touch nothing of the state after the reset.

        Args:
            config: Settings to run with from now on (by default, the current ones). On a running
                emulator, ``same_origin_files``, ``render_workers`` and ``idle_timeout`` must stay
                as they are: they are read when it starts.

        Raises:
            ValueError: `config` changes a setting read at start, while the emulator runs.
        """
        config = config or self.config
        if self._sockets:  # listening
            for name in _FIXED_AT_START:
                if getattr(config, name) != getattr(self.config, name):
                    raise ValueError(f"{name} cannot change while the emulator runs: start another Emulator")
        self.config = config
        self.state.reset(config)

    def journal(self) -> dict[str, list[dict[str, Any]]]:
        """Everything received so far, as JSON-able dicts: ``{"requests": [...], "downloads": [...]}``.

        Each entry is :meth:`GenerationRecord.as_dict` or :meth:`DownloadRecord.as_dict` of what
        :meth:`requests` and :meth:`downloads` return; ``GET /_emulator/journal`` answers the same.
        """
        return self.state.journal()

    def requests(self) -> list[GenerationRecord]:
        """The generation requests received so far (since the start or the last :meth:`reset`), oldest first.

        Each entry is frozen; compare its attributes (``entry.outcome == "generated"``) or the whole
        of :meth:`GenerationRecord.as_dict`. The list is new at each call.
        """
        return self.state.requests()

    def downloads(self) -> list[DownloadRecord]:
        """The video downloads received so far (since the start or the last :meth:`reset`), oldest first.

        Each entry is frozen; see :class:`DownloadRecord`. The list is new at each call.
        """
        return self.state.downloads()

    @property
    def generations(self) -> int:
        """How many generations actually ran (replays of an idempotency key do not count) since the start or reset."""
        return self.state.generations

    def __repr__(self) -> str:
        return f"Emulator(base_url={self.base_url!r}, files_origin={self.files_origin!r})"
