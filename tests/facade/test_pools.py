"""Many generations at once from process pools and thread pools: what crosses, and what refuses to.

The process pools here start their workers with "spawn" (macOS's and Windows' default) and
"forkserver" (Linux's from Python 3.14): each worker is a fresh interpreter that makes its own
client in the pool's initializer. This process never forks: it runs the emulator's threads (its
event loop, its renderers), and a fork copies whatever locks they hold at that instant into a
child that can never release them (Python 3.12 warns about it, and this suite turns warnings
into errors). "fork" (Linux's default before 3.14) is tested from a script of its own
(``tests/forked.py``), a process with no other thread, as a user's script would be.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
import qubrid_video as qv
from qubrid_video_emulator import Emulator, EmulatorConfig, GenerationRecord, KeyPolicy

from tests import workers
from tests.conftest import ROOT

KEY = "sk-pools-3f9c2a71d4e8b605"
POOR = "sk-pools-without-credits-8e1d"  # a key whose account has no credits: 402
MP4_BOX = b"ftyp"  # an MP4 file's first box, at offset 4
WAIT = 120  # seconds: an upper bound on a wait for a future, never a pause


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator for the module, accepting KEY and POOR (faults are queued by each test).

    It serves the videos from the API's own origin, where a client's downloader would send the
    key: a video that downloads there without one proves it left the key behind.
    """
    config = EmulatorConfig(keys={KEY: KeyPolicy(), POOR: KeyPolicy(credits=0)}, same_origin_files=True)
    with Emulator(config) as running:
        yield running


def _pool(emulator: Emulator, method: str) -> ProcessPoolExecutor:
    """Two workers started with `method`, each with its own client (``workers.start``)."""
    return ProcessPoolExecutor(
        max_workers=2,
        mp_context=multiprocessing.get_context(method),
        initializer=workers.start,
        initargs=(emulator.base_url, KEY),
    )


def _sent(emulator: Emulator, request_id: str | None) -> GenerationRecord:
    """The journal's entry for the request the server answered with `request_id`."""
    found = [entry for entry in emulator.requests() if entry.request_id == request_id]
    assert len(found) == 1, f"no single request {request_id!r} in the journal"
    return found[0]


def _error(future: Future[Any]) -> BaseException:
    exc = future.exception(timeout=WAIT)
    assert exc is not None, f"expected an error, got {future.result()!r}"
    return exc


def _assert_keyless(exc: BaseException) -> None:
    """No key in the error, its pickle, or the worker's traceback the pool chained to it."""
    remote = exc.__cause__  # concurrent.futures' _RemoteTraceback: the worker's formatted traceback
    assert remote is not None
    assert "tests/workers.py" in str(remote)
    for text in (str(exc), repr(exc), repr(vars(exc)), str(remote), repr(pickle.dumps(exc))):
        assert KEY not in text
        assert POOR not in text


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_workers_return_videos_and_raise_the_sdks_errors(emulator: Emulator, method: str, tmp_path: Path) -> None:
    """Videos come back whole and download without a key; errors keep their class and fields."""
    with _pool(emulator, method) as pool:
        made = [pool.submit(workers.generate, f"fox {method} {i}") for i in range(4)]
        refused = pool.submit(workers.generate, f"wide {method}", resolution="9000p")
        unsent = pool.submit(workers.generate, f"never {method}", duration=0)
        broke = pool.submit(workers.generate_as, POOR, f"broke {method}")
        first_round: list[Future[Any]] = [*made, refused, unsent, broke]
        assert not wait(first_round, timeout=WAIT).not_done
        emulator.inject("500")  # the next generation request, which only `failed` sends
        failed = pool.submit(workers.generate, f"fault {method}")
        failure = _error(failed)

    pids = {pid for pid, _ in (future.result() for future in made)}
    assert os.getpid() not in pids
    for _, video in (future.result() for future in made):
        assert type(video) is qv.Video
        assert video.response is None
        assert video.downloader.detached
        assert _sent(emulator, video.request_id).outcome == "generated"
    first = made[0].result()[1]
    before = len(emulator.downloads())
    data = first.read()
    assert data[4:8] == MP4_BOX
    assert first.download(tmp_path / "fox.mp4").read_bytes() == data
    fetched = emulator.downloads()[before:]
    assert [entry.name for entry in fetched] == [first.url.rsplit("/", 1)[1]] * 2
    assert not any(entry.authorization for entry in fetched)  # the API's own origin, yet no key

    bad = _error(refused)
    assert type(bad) is qv.BadRequestError
    assert (bad.status_code, bad.param, bad.code) == (400, "resolution", "invalid_request")
    assert "resolution" in bad.message  # the message as the server wrote it
    assert _sent(emulator, bad.request_id).status == 400
    assert str(bad) == f"HTTP 400 invalid_request {bad.message} (param: resolution) [request_id: {bad.request_id}]"

    local = _error(unsent)
    assert type(local) is qv.InvalidParameterError
    assert isinstance(local, ValueError)
    assert local.param == "duration"
    assert str(local) == "duration: must be a positive whole number, got 0"
    assert not any(entry.fields.get("prompt") == f"never {method}" for entry in emulator.requests())

    poor = _error(broke)
    assert type(poor) is qv.InsufficientCreditsError
    assert poor.status_code == 402
    assert _sent(emulator, poor.request_id).status == 402

    assert type(failure) is qv.InternalServerError
    assert (failure.status_code, failure.may_have_generated) == (500, True)
    assert _sent(emulator, failure.request_id).fault == "500"

    for exc in (bad, local, poor, failure):
        _assert_keyless(exc)
        if isinstance(exc, qv.APIStatusError):
            assert exc.response is None  # the live response stayed in the worker


def test_the_bytes_that_cross_hold_no_key(emulator: Emulator) -> None:
    """The pickles a worker makes of a video and of an API error name neither key."""
    with _pool(emulator, "spawn") as pool:
        outcomes = [pool.submit(workers.pickled_outcome, "heron"),
                    pool.submit(workers.pickled_outcome, "tall", aspect_ratio="21:1")]  # fmt: skip
        crossed = [future.result(timeout=WAIT) for future in outcomes]
    for data in crossed:
        assert KEY.encode() not in data
        assert POOR.encode() not in data
    video, error = (pickle.loads(data) for data in crossed)
    assert type(video) is qv.Video
    assert type(error) is qv.BadRequestError
    assert error.param == "aspect_ratio"


@pytest.mark.parametrize("flavour", [qv.Qubrid, qv.AsyncQubrid])
def test_a_client_refuses_pickling_and_says_what_to_do(flavour: type[qv.Qubrid | qv.AsyncQubrid]) -> None:
    """The client, its bound methods and its downloader refuse with a TypeError that names the remedy."""
    client = flavour(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    for part in (client, client.videos.generate, client.with_options(max_retries=0)):
        with pytest.raises(TypeError, match="cannot be pickled") as caught:
            pickle.dumps(part)
        assert "Make a client in each process" in str(caught.value)
        assert "initializer" in str(caught.value)
    with pytest.raises(TypeError, match="Pickle the Video instead"):
        pickle.dumps(client.downloader)
    detached = pickle.loads(pickle.dumps(type(client.downloader)(key=client.downloader._key)))
    assert detached.detached
    assert detached._key is None


def test_a_client_handed_to_a_worker_fails_its_task_only(emulator: Emulator) -> None:
    """Submitting a client (or its generate) fails that future with the TypeError; the pool goes on."""
    with qv.Qubrid(api_key=KEY, base_url=emulator.base_url) as client, _pool(emulator, "spawn") as pool:
        handed = pool.submit(len, [client])
        bound = pool.submit(client.videos.generate, model="p-video", prompt="x")
        after = pool.submit(workers.generate, "after")
        for future in (handed, bound):
            exc = _error(future)
            assert type(exc) is TypeError
            assert "Make a client in each process" in str(exc)
        assert type(after.result(timeout=WAIT)[1]) is qv.Video


def test_a_thread_pool_with_a_client_per_thread(emulator: Emulator) -> None:
    """Each worker thread makes one client in the initializer and uses only it; all are closed after."""
    local = threading.local()
    made: list[qv.Qubrid] = []
    lock = threading.Lock()

    def start() -> None:
        local.client = qv.Qubrid(api_key=KEY, base_url=emulator.base_url)
        with lock:
            made.append(local.client)

    def generate(prompt: str) -> tuple[str, int, qv.Video]:
        client: qv.Qubrid = local.client
        return threading.current_thread().name, id(client), client.videos.generate(**workers.SHORT, prompt=prompt)

    try:
        with ThreadPoolExecutor(max_workers=3, initializer=start) as pool:
            results = list(pool.map(generate, [f"thread-local {i}" for i in range(6)], timeout=WAIT))
    finally:
        for client in made:
            client.close()
    pairs = {(thread, client) for thread, client, _ in results}
    assert len(pairs) == len({thread for thread, _ in pairs}) == len({client for _, client in pairs})
    assert {client for _, client in pairs} <= {id(client) for client in made}  # the initializer's, no other
    assert all(client._http.is_closed for client in made)
    assert len({_sent(emulator, video.request_id).idempotency_key for *_, video in results}) == 6


def test_a_thread_pool_sharing_one_client(emulator: Emulator) -> None:
    """Threads share one client for generating and reading; each call keeps its own request and key."""
    with qv.Qubrid(api_key=KEY, base_url=emulator.base_url) as client, ThreadPoolExecutor(max_workers=3) as pool:
        prompts = [f"shared {i}" for i in range(6)]
        videos = list(pool.map(lambda p: client.videos.generate(**workers.SHORT, prompt=p), prompts, timeout=WAIT))
        contents = list(pool.map(lambda video: video.read(), videos, timeout=WAIT))
    sent = [_sent(emulator, video.request_id) for video in videos]
    assert [entry.fields["prompt"] for entry in sent] == prompts  # each answer went to its own caller
    assert len({entry.idempotency_key for entry in sent}) == 6
    assert all(data[4:8] == MP4_BOX for data in contents)


def test_clients_made_before_a_fork_work_in_the_forked_workers(emulator: Emulator) -> None:
    """Clients used before a fork open connections of their own in each child: no answer goes astray."""
    script = ROOT / "tests" / "forked.py"
    with subprocess.Popen([sys.executable, str(script), emulator.base_url, KEY], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as child:  # fmt: skip
        try:
            out, err = child.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the workers too: with shared sockets they hang
            raise
    assert child.returncode == 0, err
    report = json.loads(out)
    made = report["made"]
    assert len(made) == 8
    workers_pids = {entry["pid"] for entry in made} - {report["parent"]}
    assert len(workers_pids) == 2
    for entry in made:  # each answer came back to the process and the call that asked for it
        assert _sent(emulator, entry["request_id"]).fields["prompt"] == entry["prompt"]
