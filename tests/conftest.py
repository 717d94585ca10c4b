"""Shared fixtures: the repository's paths, the spec, and a loopback server for any ASGI app."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from qubrid_video import contract

ROOT = Path(__file__).resolve().parent.parent
# The generator's input, for the tests of the file itself and of commands given a spec to read.
SPEC_PATH = ROOT / "openapi" / "qubrid-video.yaml"
PYTEST_PLUGIN = "qubrid_video_emulator.pytest_plugin"


def plugin_load_args() -> list[str]:
    """What a child pytest needs to load our plugin: nothing where its entry point is installed.

    An editable install's metadata (its entry points) is written when it is installed: one made
    before the plugin existed lacks it until reinstalled (`make install`). There, ``-p`` loads the
    plugin instead; where the entry point is registered, ``-p`` would load it a second time (an error).
    """
    registered = any(entry.value == PYTEST_PLUGIN for entry in entry_points(group="pytest11"))
    return [] if registered else ["-p", PYTEST_PLUGIN]


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The contract the SDK was generated from (under `make drift`, the new spec's regenerated client's)."""
    return contract.spec()


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yield its origin."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("loopback test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def emulator() -> Iterator[Any]:
    """A fresh emulator on free loopback ports (API and a separate "CDN" origin)."""
    from qubrid_video_emulator import Emulator

    with Emulator() as running:
        yield running


@pytest.fixture
def client(emulator: Any) -> Iterator[Any]:
    """A Qubrid client pointed at the emulator."""
    from qubrid_video import Qubrid

    with Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as qubrid:
        yield qubrid
