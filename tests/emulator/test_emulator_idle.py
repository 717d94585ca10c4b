"""The emulator against clients that connect and say nothing (issue #12): an idle timeout, a quiet log."""

from __future__ import annotations

import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from qubrid_video_emulator import Emulator, EmulatorConfig

QUBRID_VIDEO = str(Path(sys.executable).parent / "qubrid-video")
EMULATOR_FILES = 1024
IDLE_CONNECTIONS = 1100
# Sets the emulator's descriptor limit in the process itself, then becomes the CLI (no preexec_fn).
# SIGINT back to its default: the test run may ignore it (a background job), and the emulator
# respects an inherited ignored SIGINT, so the SIGINT that stops it below would do nothing.
LAUNCHER = (
    "import os, resource, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), hard))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)
TINY = {"model": "p-video", "prompt": "still here", "duration": 1, "aspect_ratio": "1:1", "draft": True}
AUTH = {"Authorization": "Bearer sk-qubrid-emulator"}


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _closed_by_peer(sock: socket.socket) -> bool:
    """True once the other end has closed the connection (a read would return end-of-file)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


def _read_answer(sock: socket.socket, timeout: float = 30) -> bytes:
    """One whole answer: its head, then as many body bytes as its Content-Length says."""
    sock.settimeout(timeout)
    answer = b""
    while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def _raised_file_limit(wanted: int) -> Iterator[int]:
    """Raise this process's soft descriptor limit toward `wanted` (within the hard limit); yield it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, limit), hard))
    try:
        yield max(soft, limit)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_connections_cannot_lock_everyone_out(tmp_path: Path) -> None:
    """1,100 silent connections against a 1,024-descriptor emulator: it sheds them, serves, and logs little."""
    stderr_path = tmp_path / "stderr.txt"
    command = [sys.executable, "-c", LAUNCHER, str(EMULATOR_FILES), QUBRID_VIDEO, "emulator", "--port", "0",
               "--idle-timeout", "1"]  # fmt: skip
    with (
        _raised_file_limit(IDLE_CONNECTIONS + 1024) as limit,
        stderr_path.open("wb") as stderr,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True) as process,
        ExitStack() as sockets,
    ):
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:"), stderr_path.read_text()
            port = int(base_url.rsplit(":", 1)[1].split("/")[0])
            # As many as this process may open, keeping room for its own files, if the hard limit is low.
            count = min(IDLE_CONNECTIONS, limit - len(os.listdir("/proc/self/fd")) - 64)
            idle = [sockets.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
                    for _ in range(count)]  # fmt: skip
            if count > EMULATOR_FILES:
                _wait_for(lambda: b"Too many open files" in stderr_path.read_bytes(), 60, "the emulator to run out")
            _wait_for(lambda: _closed_by_peer(idle[0]), 60, "the idle timeout to close a silent connection")
            response = httpx.post(f"{base_url}/videos/generations", json=TINY, headers=AUTH, timeout=60)
            assert response.status_code == 200, response.text
            _wait_for(lambda: all(_closed_by_peer(sock) for sock in idle[:100]), 30, "the first hundred to be closed")
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)
    assert process.returncode == 0
    assert stderr_path.read_text().count("Too many open files") <= 3


@pytest.fixture
def quick() -> Iterator[Emulator]:
    """An emulator giving clients half a second to send a request's headers."""
    with Emulator(EmulatorConfig(idle_timeout=0.5)) as running:
        yield running


def _connect(emulator: Emulator) -> socket.socket:
    host, port = emulator.origin.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=30)


def test_half_a_request_is_closed_after_the_idle_timeout(quick: Emulator) -> None:
    """Headers never finished, on a new connection or after a first answer on a kept-alive one, are cut."""
    with _connect(quick) as fresh, _connect(quick) as reused:
        fresh.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")
        reused.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_answer(reused).startswith(b"HTTP/1.1 200")
        reused.sendall(b"GET /_emulator/health HTTP/1.1\r\nHo")
        _wait_for(lambda: _closed_by_peer(fresh) and _closed_by_peer(reused), 30, "both to be closed")


def test_a_slow_body_after_complete_headers_is_not_cut(quick: Emulator) -> None:
    """The deadline covers the headers only: a body sent after it has passed is still answered."""
    body = b'{"key": "sk-slow"}'
    with _connect(quick) as slow, _connect(quick) as clock:
        slow.sendall(
            b"POST /_emulator/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        # `clock`, silent since before `slow` sent its headers, is closed once the deadline has passed.
        _wait_for(lambda: _closed_by_peer(clock), 30, "the idle timeout to pass")
        slow.sendall(body)
        assert _read_answer(slow).startswith(b"HTTP/1.1 200")


def test_idle_timeout_must_be_positive() -> None:
    """Zero or a negative idle timeout is refused; None turns it off."""
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="idle_timeout"):
            EmulatorConfig(idle_timeout=bad)
    assert EmulatorConfig(idle_timeout=None).idle_timeout is None
