"""A request sent on a pooled connection the server had closed while idle is resent once; no other is."""

from __future__ import annotations

from pathlib import Path

import pytest
import qubrid_video as qv
from qubrid_video._client import POOL_LANES

from ..hostile import assert_keyless, calls, hostile

CLIENTS = ["sync", "async"]


def _reuse_calls(flavour: str) -> int:
    """Calls that bring a client back to its first call's pooled connection on the last one."""
    return 2 if flavour == "sync" else POOL_LANES + 1


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("flavour", CLIENTS)
def test_connection_closed_while_idle_is_resent_once(flavour: str, how: str) -> None:
    """A pooled connection the server closed unseen: the request is resent on a new one, beyond max_retries=0."""
    count = _reuse_calls(flavour)
    with hostile(f"stale:{how}") as (base_url, recorder):
        outcomes = calls(flavour, base_url, count, max_retries=0)
    assert all(isinstance(result, qv.Video | qv.AsyncVideo) for result, _ in outcomes), outcomes
    # The last call went out on the first call's connection, which the server closed unread; then
    # once more on a new connection: one request per call reached the server.
    assert recorder.unread == 1
    assert len(recorder.requests) == count
    assert recorder.connections == count


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("flavour", CLIENTS)
def test_new_connection_closed_after_the_request_is_not_resent(flavour: str, how: str) -> None:
    """On a connection opened for it, a request cut off unanswered may have generated: reported, not resent."""
    with hostile(f"drop:{how}") as (base_url, recorder):
        ((error, _),) = calls(flavour, base_url)
    assert isinstance(error, qv.APIConnectionError)
    assert error.may_have_generated is True
    assert_keyless(error)
    assert len(recorder.requests) == 1
    assert recorder.connections == 1


@pytest.mark.parametrize("flavour", CLIENTS)
def test_pooled_connection_reset_long_after_the_request_is_not_resent(flavour: str) -> None:
    """A pooled connection reset 2 s after the server read the request: it may have generated, so no resend."""
    count = _reuse_calls(flavour)
    with hostile("stale_late:rst") as (base_url, recorder):
        outcomes = calls(flavour, base_url, count)
    *earlier, (error, _) = outcomes
    assert all(isinstance(result, qv.Video | qv.AsyncVideo) for result, _ in earlier), earlier
    assert isinstance(error, qv.APIConnectionError)
    assert error.may_have_generated is True
    assert_keyless(error)
    assert len(recorder.requests) == count
    assert recorder.connections == count - 1  # the last call went out on the first call's connection


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_an_upload_cut_short_is_reported_as_never_generated(flavour: str, tmp_path: Path) -> None:
    """The server resets the connection 256 KiB into an 8 MiB upload: the SDK's own pools counted
    what went out, so the error says the request was not sent whole and nothing was generated."""
    image = tmp_path / "big.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(8 * 1024 * 1024))
    with hostile("cut_upload") as (base_url, recorder):
        ((error, _),) = calls(flavour, base_url, image=image, max_retries=0)
    assert isinstance(error, qv.APIConnectionError)
    assert not isinstance(error, qv.APITimeoutError)
    assert error.may_have_generated is False
    assert "lost before the whole request was sent" in str(error)
    assert len(recorder.requests) == 1
