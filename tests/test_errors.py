"""Error classes and their one-line messages, from real answers: the emulator or a raw socket."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest
import qubrid_video as qv
from qubrid_video_emulator import Emulator

from .hostile import hostile, raw_answer

TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "fps": 2, "resolution": "360p"}
CLIENTS = ["sync", "async"]


def _generate(flavour: str, base_url: str, api_key: str, arguments: dict[str, Any]) -> None:
    if flavour == "sync":
        with qv.Qubrid(api_key=api_key, base_url=base_url, max_retries=0) as client:
            client.videos.generate(**arguments)
        return

    async def call() -> None:
        async with qv.AsyncQubrid(api_key=api_key, base_url=base_url, max_retries=0) as client:
            await client.videos.generate(**arguments)

    asyncio.run(call())


def _raised(flavour: str, base_url: str, api_key: str = "sk-test", **overrides: Any) -> qv.APIError:
    """The APIError one generate() call raises, through the sync or the async client, retries off."""
    with pytest.raises(qv.APIError) as caught:
        _generate(flavour, base_url, api_key, {**TINY, **overrides})
    return caught.value


# 404: a wrong URL is not an unknown model.


@pytest.mark.parametrize("flavour", CLIENTS)
def test_base_url_without_v1_is_not_found_not_model_not_found(emulator: Emulator, flavour: str) -> None:
    """A base URL missing /v1 gets a 404 that is a NotFoundError, and not a ModelNotFoundError."""
    error = _raised(flavour, emulator.base_url.removesuffix("/v1"), emulator.api_key)
    assert type(error) is qv.NotFoundError
    assert not isinstance(error, qv.ModelNotFoundError)
    assert error.status_code == 404
    assert error.code == "not_found"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy)) == (qv.NotFoundError, str(error))


@pytest.mark.parametrize("flavour", CLIENTS)
def test_unknown_model_is_model_not_found(emulator: Emulator, flavour: str) -> None:
    """A 404 whose code is model_not_found is a ModelNotFoundError, which is also a NotFoundError."""
    error = _raised(flavour, emulator.base_url, emulator.api_key, model="p-video-ultra")
    assert type(error) is qv.ModelNotFoundError
    assert isinstance(error, qv.NotFoundError)
    assert error.param == "model"


@pytest.mark.parametrize("flavour", CLIENTS)
def test_plain_text_404_is_not_found(flavour: str) -> None:
    """A 404 that is not the API's JSON (a proxy's page) has no code, so it is a plain NotFoundError."""
    wire = raw_answer("404 Not Found", b"404 page not found\n", "Content-Type: text/plain")
    with hostile("canned", answer=wire) as (base_url, _):
        error = _raised(flavour, base_url)
    assert type(error) is qv.NotFoundError
    assert error.body == "404 page not found\n"
