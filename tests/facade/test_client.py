"""Constructing clients: keys, URLs, options, copies, and the public surface they expose."""

from __future__ import annotations

import inspect
import pickle
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest
import qubrid_video
from qubrid_video import AsyncQubrid, InvalidParameterError, ParameterTypeError, Qubrid, Timeout
from qubrid_video._config import Unchanged

from ..media import jpeg


def test_quick_start_as_in_the_readme(emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """The README's three lines, with the key and base URL from the environment."""
    monkeypatch.setenv("QUBRID_API_KEY", emulator.api_key)
    monkeypatch.setenv("QUBRID_BASE_URL", emulator.base_url)
    (tmp_path / "cat.jpg").write_bytes(jpeg())
    monkeypatch.chdir(tmp_path)
    client = Qubrid()
    video = client.videos.generate(model="p-video", prompt="A butterfly flying through a flower garden",
                                   image="cat.jpg", duration=1, draft=True)  # fmt: skip
    path = video.download("butterfly.mp4")
    client.close()
    assert path == tmp_path / "butterfly.mp4"
    assert path.read_bytes()[4:8] == b"ftyp"
    assert video.created is not None
    assert video.created.tzinfo is not None
    assert video.request_id == emulator.requests()[-1].request_id


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No api_key and no QUBRID_API_KEY: an error naming both ways to fix it."""
    monkeypatch.delenv("QUBRID_API_KEY", raising=False)
    with pytest.raises(InvalidParameterError, match="QUBRID_API_KEY") as caught:
        Qubrid()
    assert caught.value.param == "api_key"
    with pytest.raises(InvalidParameterError):
        AsyncQubrid()


@pytest.mark.parametrize("url", ["http://example.com/v1", "http://10.0.0.5/v1", "http://api.qubrid.com"])
def test_plain_http_to_other_hosts_is_refused(url: str) -> None:
    """An http:// base URL off loopback is refused unless explicitly allowed."""
    with pytest.raises(InvalidParameterError, match="allow_insecure_http") as caught:
        Qubrid(api_key="sk-x", base_url=url)
    assert caught.value.param == "base_url"
    assert Qubrid(api_key="sk-x", base_url=url, allow_insecure_http=True).base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://localhost/v1", "http://[::1]:9/v1"])
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    """Loopback hosts need no opt-in (the emulator lives there)."""
    assert Qubrid(api_key="sk-x", base_url=url).base_url == url


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"base_url": "ftp://x/v1"}, InvalidParameterError, "base_url"),
        ({"base_url": "https://x/v1?region=eu"}, InvalidParameterError, "base_url"),  # the path would go after it
        ({"base_url": "https://x/v1#top"}, InvalidParameterError, "base_url"),
        ({"base_url": 5}, ParameterTypeError, "base_url"),
        ({"max_retries": -1}, InvalidParameterError, "max_retries"),
        ({"max_retries": "2"}, ParameterTypeError, "max_retries"),
        ({"timeout": 0}, InvalidParameterError, "timeout"),
        ({"timeout": "60"}, ParameterTypeError, "timeout"),
        ({"default_headers": {"X": 1}}, ParameterTypeError, "default_headers"),
        ({"api_key": "sk bad"}, InvalidParameterError, "api_key"),
        ({"http_client": httpx.AsyncClient()}, ParameterTypeError, "http_client"),
    ],
)
def test_bad_options_name_the_parameter(kwargs: dict[str, Any], error: type[Exception], param: str) -> None:
    """Each bad constructor option raises an error naming it."""
    with pytest.raises(error) as caught:
        Qubrid(**{"api_key": "sk-x", **kwargs})
    assert caught.value.param == param  # type: ignore[attr-defined]


def test_repr_and_pickle_never_show_the_key() -> None:
    """The key is absent from the client's repr, and the client refuses to be pickled."""
    client = Qubrid(api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(client)
    assert "sk-secret-123" not in repr(client._options)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)


@pytest.mark.parametrize("video_type", [qubrid_video.Video, qubrid_video.AsyncVideo])
def test_videos_and_timeouts_are_frozen_dataclasses(video_type: type[qubrid_video.Video]) -> None:
    """``dataclasses.replace`` gives a changed copy (a Timeout's checked again); equality and hashing
    leave out the response and the downloader; nothing can be assigned."""
    import dataclasses

    video = video_type("https://cdn.example/a.mp4", None, "req-1")
    moved = dataclasses.replace(video, url="https://cdn.example/b.mp4")
    assert (moved.url, moved.request_id, moved.downloader) == ("https://cdn.example/b.mp4", "req-1", video.downloader)
    twin = video_type("https://cdn.example/a.mp4", None, "req-1", httpx.Response(200))
    assert twin == video
    assert hash(twin) == hash(video)
    assert moved != video
    assert "downloader" not in repr(video)
    assert "response" not in repr(video)
    with pytest.raises(dataclasses.FrozenInstanceError):
        video.url = "https://elsewhere.example/"  # type: ignore[misc]
    assert dataclasses.replace(Timeout(), total=5) == Timeout(total=5)
    with pytest.raises(InvalidParameterError, match=r"timeout\.read"):
        dataclasses.replace(Timeout(), read=-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Timeout().total = 1  # type: ignore[misc]


# `pickle.dumps(Timeout(connect=5, read=30, write=60, total=300), protocol=4)` made by 0.1.0, whose
# Timeout was an attrs class (its state a dict of the fields).
TIMEOUT_PICKLED_BY_0_1_0 = (
    b"\x80\x04\x95N\x00\x00\x00\x00\x00\x00\x00\x8c\x0cqubrid_video\x94\x8c\x07Timeout\x94\x93\x94)\x81\x94}\x94("
    b"\x8c\x07connect\x94K\x05\x8c\x04read\x94K\x1e\x8c\x05write\x94K<\x8c\x05total\x94M,\x01ub."
)


def test_timeouts_pickle_across_versions_and_are_checked_when_unpickled() -> None:
    """A Timeout pickled by 0.1.0 unpickles whole; a new pickle goes through the constructor (which
    0.1.0 also has), so a tampered one is refused like a bad argument; both kinds take weak references."""
    import weakref

    assert pickle.loads(TIMEOUT_PICKLED_BY_0_1_0) == Timeout(connect=5, read=30, write=60, total=300)
    assert pickle.loads(pickle.dumps(Timeout(read=3))) == Timeout(read=3)
    assert Timeout.__reduce__(Timeout(read=3)) == (Timeout, (10.0, 3, 120.0, 900.0))
    tampered = TIMEOUT_PICKLED_BY_0_1_0.replace(b"K\x1e", b"J\xff\xff\xff\xff")  # read=30 becomes read=-1
    with pytest.raises(InvalidParameterError, match=r"timeout\.read"):
        pickle.loads(tampered)
    timeout = Timeout()
    assert weakref.ref(timeout)() is timeout
    video = qubrid_video.Video("https://cdn.example/a.mp4", None, None)
    assert weakref.ref(video)() is video


def test_with_options_shares_the_pool(emulator: Any) -> None:
    """A changed copy uses the same connection pool; closing the copy leaves the pool open."""
    with Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        quick = client.with_options(timeout=30, max_retries=0)
        assert quick._http is client._http
        assert quick.timeout.total == 30
        assert quick.max_retries == 0
        assert client.max_retries == 2
        quick.close()
        assert not client._http.is_closed
        assert quick.videos.generate(model="p-video", duration=1, aspect_ratio="1:1", draft=True).url
        with pytest.raises(TypeError, match="unexpected keyword"):
            client.with_options(colour="blue")


def test_with_options_keeps_what_is_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options not passed keep the client's values; None means what it means to the constructor."""
    client = Qubrid(api_key="sk-x", max_retries=5, timeout=42)
    copy = client.with_options(base_url="http://127.0.0.1:9/v1")
    assert (copy.base_url, copy.max_retries, copy.timeout.total) == ("http://127.0.0.1:9/v1", 5, 42)
    assert client.with_options(timeout=None).timeout == Timeout()
    monkeypatch.setenv("QUBRID_API_KEY", "sk-from-env")
    assert client.with_options(api_key=None)._options.api_key == "sk-from-env"
    with pytest.raises(ParameterTypeError) as caught:
        client.with_options(max_retries="lots")
    assert caught.value.param == "max_retries"
    with pytest.raises(TypeError, match="http_client"):
        client.with_options(http_client=None)


def test_with_options_mirrors_the_constructor() -> None:
    """with_options takes every constructor option but http_client, keyword-only, with the same types."""
    init = inspect.signature(Qubrid.__init__, eval_str=True).parameters
    copy = inspect.signature(Qubrid.with_options, eval_str=True).parameters
    assert [name for name in init if name not in ("self", "http_client")] == [n for n in copy if n != "self"]
    for name, parameter in copy.items():
        if name != "self":
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, name
            accepted = typing.get_args(init[name].annotation) or (init[name].annotation,)
            assert set(typing.get_args(parameter.annotation)) == {*accepted, Unchanged}, name


def test_own_http_client_is_used_and_not_closed(emulator: Any) -> None:
    """A caller's httpx.Client carries the requests, and stays open after the SDK client closes."""
    seen: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: seen.append(request.url.path)]})
    with Qubrid(api_key=emulator.api_key, base_url=emulator.base_url, http_client=http) as client:
        client.videos.generate(model="p-video", duration=1, aspect_ratio="1:1", draft=True)
    assert seen == ["/v1/videos/generations"]
    assert not http.is_closed
    http.close()


def test_timeout_forms() -> None:
    """Seconds set the call's total deadline; a Timeout or an httpx.Timeout set the parts."""
    assert Qubrid(api_key="k", timeout=42).timeout.total == 42
    assert Qubrid(api_key="k", timeout=42).timeout.connect == 10
    assert Qubrid(api_key="k", timeout=Timeout(connect=1, read=2, write=3, total=4)).timeout == Timeout(1, 2, 3, 4)
    assert Qubrid(api_key="k", timeout=httpx.Timeout(5.0)).timeout.read == 5.0


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


@pytest.mark.parametrize(
    ("sync", "async_", "renames"),
    [
        (qubrid_video.Qubrid, qubrid_video.AsyncQubrid, {"close": "aclose"}),
        (qubrid_video.Videos, qubrid_video.AsyncVideos, {}),
        (qubrid_video.Video, qubrid_video.AsyncVideo, {}),
    ],
)
def test_async_mirrors_sync(sync: type, async_: type, renames: dict[str, str]) -> None:
    """The async classes expose the same methods with the same parameters as the sync ones."""
    sync_methods = _public(sync)
    async_methods = _public(async_)
    assert {renames.get(n, n) for n in sync_methods} == set(async_methods)
    for name, signature in sync_methods.items():
        other = async_methods[renames.get(name, name)]
        assert list(signature.parameters) == list(other.parameters), name
        for parameter, twin in zip(signature.parameters.values(), other.parameters.values(), strict=True):
            assert (parameter.kind, parameter.default) == (twin.kind, twin.default), f"{name}.{parameter.name}"
    init, async_init = inspect.signature(sync.__init__), inspect.signature(async_.__init__)
    assert list(init.parameters) == list(async_init.parameters)


def test_exported_members() -> None:
    """__all__ lists exactly the public names, each documented and presented as qubrid_video's."""
    public = {name for name in vars(qubrid_video) if not name.startswith("_")}
    assert set(qubrid_video.__all__) == public | {"__version__"}
    assert {"MediaInput", "Progress", "Downloader", "AsyncDownloader"} <= public  # named in public signatures
    for name in qubrid_video.__all__:
        member = getattr(qubrid_video, name)
        if isinstance(member, type):
            assert member.__module__ == "qubrid_video", name
            assert member.__doc__, name


def test_import_stays_light() -> None:
    """Importing the SDK pulls in neither the emulator, the CLI, nor their heavy dependencies."""
    import subprocess
    import sys

    heavy = ("av", "PIL", "starlette", "uvicorn", "openapi_core", "yaml", "qubrid_video_emulator", "qubrid_video_cli")
    code = f"import sys, qubrid_video; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_import_defers_what_only_use_needs() -> None:
    """``import qubrid_video`` imports nothing that ``import httpx`` has not, beyond a few small standard
    modules: httpcore (with h11 and anyio) comes with the first client, as in httpx; attrs with the
    generated models at the first call; html with the first notebook display; the spec's reader with
    the first read of the spec."""
    import subprocess
    import sys

    code = (
        "import sys, httpx; before = set(sys.modules); import qubrid_video; "
        "print(' '.join(sorted({m.partition('.')[0] for m in set(sys.modules) - before})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(result.stdout.split()) - {"contextvars", "_contextvars", "dataclasses"} == {"qubrid_video"}
    used = (
        "import sys, qubrid_video; qubrid_video.Qubrid(api_key='k'); qubrid_video.AsyncQubrid(api_key='k'); "
        "print('httpcore' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", used], capture_output=True, text=True, check=True).stdout == "True\n"


def test_async_client_lanes_are_shared_and_closed() -> None:
    """An AsyncQubrid spreads its connections over several pools; copies share them; aclose closes all."""
    import asyncio

    async def run() -> None:
        client = AsyncQubrid(api_key="k")
        copy = client.with_options(max_retries=0)
        assert len(client._lanes) > 1
        assert copy._lanes is client._lanes
        await copy.aclose()
        assert not any(lane.is_closed for lane in client._lanes)
        await client.aclose()
        assert all(lane.is_closed for lane in client._lanes)
        own = httpx.AsyncClient()
        async with AsyncQubrid(api_key="k", http_client=own) as given:
            assert list(given._lanes) == [own]
        assert not own.is_closed
        await own.aclose()

    asyncio.run(run())


def _verifying_context(lane: httpx.Client | httpx.AsyncClient) -> Any:
    """The TLS context a pool of the SDK's own verifies servers with (httpx keeps it on httpcore's pool)."""
    return lane._transport._pool._ssl_context  # type: ignore[attr-defined]


@pytest.mark.parametrize("flavour", [Qubrid, AsyncQubrid])
def test_lanes_share_one_tls_context_from_the_environment(
    flavour: type[Qubrid] | type[AsyncQubrid], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """All of a client's pools verify with one TLS context, loaded from SSL_CERT_FILE as httpx would."""
    import certifi

    bundle = Path(certifi.where()).read_text()
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") :]
    first = first[: first.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"
    (tmp_path / "one.pem").write_text(first)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "one.pem"))
    client = flavour(api_key="k")
    contexts = {id(_verifying_context(lane)) for lane in client._lanes}
    assert len(contexts) == 1
    trusted = _verifying_context(next(iter(client._lanes))).get_ca_certs()
    assert len(trusted) == 1  # the one certificate of SSL_CERT_FILE, not certifi's bundle
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)  # read lazily, so it would load no certificate here
    other = flavour(api_key="k")
    assert len(_verifying_context(next(iter(other._lanes))).get_ca_certs()) > 1  # certifi's, read anew
