"""Answer bodies: every content-coding layer is undone within the 8 MiB cap, on every status."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
import zlib

import httpx
import pytest
import qubrid_video as qv
from qubrid_video._response import MAX_BODY_BYTES

from ..hostile import TEST_KEY, VIDEO_BODY, calls, hostile, raw_answer, stacked_bomb

CLIENTS = ["sync", "async"]


def _gzipped(data: bytes, times: int) -> bytes:
    for _ in range(times):
        data = gzip.compress(data)
    return data


# Runs one call in a fresh process and prints what it raised and how far its peak RSS rose
# above the RSS before it.
_MEASURE = """
import asyncio, sys
import qubrid_video as qv
import qubrid_video_api_client.models  # loaded by the first call otherwise: not what is measured

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))

options = {"api_key": "sk-test", "base_url": sys.argv[2], "max_retries": 0}
client = qv.Qubrid(**options) if sys.argv[1] == "sync" else qv.AsyncQubrid(**options)
before = status("VmRSS:")
try:
    if sys.argv[1] == "sync":
        client.videos.generate(model="p-video")
    else:
        asyncio.run(client.videos.generate(model="p-video"))
    outcome = "returned"
except qv.QubridError as error:
    outcome = type(error).__name__
print(outcome, status("VmHWM:") - before)
"""


@pytest.mark.parametrize("flavour", CLIENTS)
@pytest.mark.parametrize(("status", "error"), [("200 OK", "ResponseValidationError"),
                                               ("500 Internal Server Error", "InternalServerError")])  # fmt: skip
def test_stacked_gzip_bomb_stays_within_the_cap(flavour: str, status: str, error: str) -> None:
    """``Content-Encoding: gzip, gzip`` around 256 MiB of zeros (a few kB sent): the call's peak memory stays near the cap."""
    bomb = stacked_bomb()
    wire = raw_answer(status, bomb, "Content-Type: application/json", "Content-Encoding: gzip, gzip")
    with hostile("canned", answer=wire) as (base_url, recorder):
        measured = subprocess.run([sys.executable, "-c", _MEASURE, flavour, base_url], capture_output=True,
                                  text=True, timeout=120, check=True)  # fmt: skip
    outcome, growth = measured.stdout.split()
    assert outcome == error
    assert int(growth) < 4 * MAX_BODY_BYTES, f"peak RSS rose {int(growth) / 2**20:.0f} MiB"
    assert len(recorder.requests) == 1
    assert len(bomb) < 4096


@pytest.mark.parametrize("flavour", CLIENTS)
def test_stacked_codings_are_undone_in_order(flavour: str) -> None:
    """``deflate, gzip`` (deflate applied first): the video, and ``response.json()`` is the decoded body."""
    wire = raw_answer("200 OK", gzip.compress(zlib.compress(VIDEO_BODY)), "Content-Type: application/json",
                      "Content-Encoding: deflate, gzip")  # fmt: skip
    with hostile("canned", answer=wire) as (base_url, recorder):
        ((video, _),) = calls(flavour, base_url)
    assert isinstance(video, qv.Video | qv.AsyncVideo)
    assert video.url == "https://cdn.example/v.mp4"
    assert video.response is not None
    assert video.response.json() == json.loads(VIDEO_BODY)
    assert recorder.requests[0].lower().count("accept-encoding: gzip, deflate\r\n") == 1


# httpx asks for br and zstd by default when their decoders are installed; the SDK cannot undo them within its cap.
ASKS_MORE = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def _generate_once(flavour: str, base_url: str, client: str) -> qv.Video | qv.AsyncVideo:
    """One generation through the SDK's own pools, a ``with_options`` copy of them, or a caller's httpx client."""
    if flavour == "sync":
        with httpx.Client(headers=ASKS_MORE) as http:
            sdk = qv.Qubrid(api_key=TEST_KEY, base_url=base_url,
                            http_client=http if client == "your-http-client" else None)  # fmt: skip
            with sdk:
                target = sdk.with_options(max_retries=1) if client == "with-options-copy" else sdk
                return target.videos.generate(model="p-video")

    async def run() -> qv.AsyncVideo:
        async with httpx.AsyncClient(headers=ASKS_MORE) as http:
            sdk = qv.AsyncQubrid(api_key=TEST_KEY, base_url=base_url,
                                 http_client=http if client == "your-http-client" else None)  # fmt: skip
            async with sdk:
                target = sdk.with_options(max_retries=1) if client == "with-options-copy" else sdk
                return await target.videos.generate(model="p-video")

    return asyncio.run(run())


@pytest.mark.parametrize("client", ["own-pools", "with-options-copy", "your-http-client"])
@pytest.mark.parametrize("flavour", CLIENTS)
def test_only_decodable_codings_are_asked_for(flavour: str, client: str) -> None:
    """Every generation asks for ``gzip, deflate`` once, whoever made the pool: the SDK's own pools ask
    by default, a copy shares them, and on your ``http_client`` (which may ask for more) the request
    itself asks."""
    wire = raw_answer("200 OK", VIDEO_BODY, "Content-Type: application/json")
    with hostile("canned", answer=wire) as (base_url, recorder):
        video = _generate_once(flavour, base_url, client)
    assert video.url == "https://cdn.example/v.mp4"
    head = recorder.requests[0].lower()
    assert head.count("accept-encoding:") == 1
    assert "accept-encoding: gzip, deflate\r\n" in head


@pytest.mark.parametrize("flavour", CLIENTS)
@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzip.compress(VIDEO_BODY)[:40]),  # cut short: the part that came decodes
        ("deflate", zlib.compress(VIDEO_BODY)[:30]),
        ("gzip", b"\x1f\x8b" + b"\xff" * 40),  # damaged from the start: nothing decodes
        (", ".join(["gzip"] * 6), _gzipped(VIDEO_BODY, 6)),  # more layers than any real server stacks
    ],
)
def test_undecodable_bodies_are_validation_errors(flavour: str, coding: str, body: bytes) -> None:
    """A cut, damaged or over-stacked body: ResponseValidationError holding what decoded, never a DecodingError."""
    wire = raw_answer("200 OK", body, "Content-Type: application/json", f"Content-Encoding: {coding}",
                      "x-request-id: req-damaged")  # fmt: skip
    with hostile("canned", answer=wire) as (base_url, _):
        ((error, _),) = calls(flavour, base_url, max_retries=0)
    assert isinstance(error, qv.ResponseValidationError)
    assert error.may_have_generated is True
    assert error.request_id == "req-damaged"
    assert isinstance(error.body, str)
    assert VIDEO_BODY.decode().startswith(error.body)
