"""Emulator.reset(): one server for many tests, each starting as if the server were new."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
import httpx
import pytest
from qubrid_video_emulator import DEFAULT_API_KEY, Emulator, EmulatorConfig, KeyPolicy

BODY = {"model": "p-video", "prompt": "A fox", "duration": 1, "resolution": "720p", "draft": True}


def _post(emulator: Emulator, key: str | None = None, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {key or emulator.api_key}", **headers}
    return httpx.post(f"{emulator.base_url}/videos/generations", json=BODY, headers=auth, timeout=60)


def _wait_for(condition: Callable[[], object], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_reset_forgets_everything_a_test_did(emulator: Emulator) -> None:
    """Journal, queued and random faults, added keys, spent credits, idempotency keys and the count: all gone."""
    emulator.reset(EmulatorConfig(keys={DEFAULT_API_KEY: KeyPolicy(credits=1000)}))
    assert _post(emulator, **{"Idempotency-Key": "once"}).status_code == 200
    httpx.get(_post(emulator).json()["data"][0]["url"])
    emulator.add_key("sk-extra")
    emulator.inject("502", count=3)
    emulator.set_fault_rate(1.0, ["500"])
    spent = emulator.state.credits(DEFAULT_API_KEY)
    assert spent is not None
    assert spent < 1000
    assert (len(emulator.requests()), len(emulator.downloads()), emulator.generations) == (2, 1, 2)

    emulator.reset()

    assert (emulator.requests(), emulator.downloads()) == ([], [])
    assert emulator.journal() == {"requests": [], "downloads": []}
    assert emulator.generations == 0
    assert emulator.state.faults.pending() == 0
    assert emulator.state.credits(DEFAULT_API_KEY) == 1000
    assert _post(emulator, "sk-extra").status_code == 401
    again = _post(emulator, **{"Idempotency-Key": "once"})
    assert again.status_code == 200  # no fault, random or queued, is left
    assert [entry.outcome for entry in emulator.requests()] == ["error:invalid_api_key", "generated"]  # not replayed
    assert emulator.generations == 1


def test_reset_restores_the_rate_window(emulator: Emulator) -> None:
    """Requests counted against a rate limit before a reset do not count after it."""
    emulator.reset(EmulatorConfig(keys={DEFAULT_API_KEY: KeyPolicy(rate_limit=1)}))
    assert _post(emulator).status_code == 200
    assert _post(emulator).status_code == 429
    emulator.reset()
    assert _post(emulator).status_code == 200


def test_reset_with_a_config_changes_what_requests_meet(emulator: Emulator) -> None:
    """Keys, their policies, latency and the render mode follow the new config; api_key names its first key."""
    emulator.reset(EmulatorConfig(keys={"sk-new": KeyPolicy(models=["other"])}, latency=0.3, render="fast"))
    assert emulator.api_key == "sk-new"
    assert emulator.config.render == "fast"
    assert _post(emulator, DEFAULT_API_KEY).status_code == 401
    started = time.monotonic()
    assert _post(emulator).status_code == 403  # p-video is not among the key's models
    emulator.reset(attrs.evolve(emulator.config, keys={"sk-new": KeyPolicy()}))
    assert _post(emulator).status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("setting", "value"), [("same_origin_files", True), ("render_workers", 1), ("idle_timeout", 3.0)]
)
def test_settings_read_at_start_cannot_change_while_running(emulator: Emulator, setting: str, value: Any) -> None:
    """Changing a setting the running server cannot follow is a ValueError naming it, and changes nothing."""
    before = emulator.config
    with pytest.raises(ValueError, match=f"^{setting} cannot change while the emulator runs"):
        emulator.reset(attrs.evolve(before, **{setting: value}))
    assert emulator.config is before


def test_a_stopped_emulator_takes_any_config() -> None:
    """Before start, reset() may change anything: the next start reads it."""
    emulator = Emulator()
    emulator.reset(EmulatorConfig(same_origin_files=True))
    with emulator:
        assert emulator.files_origin == emulator.origin


def test_a_request_in_flight_across_a_reset_is_not_journaled(emulator: Emulator) -> None:
    """A request from before the reset, answered after it, belongs to the test before: not in the new journal."""
    emulator.reset(EmulatorConfig(latency=1.0))
    answers: list[int] = []
    sender = threading.Thread(target=lambda: answers.append(_post(emulator, **{"Idempotency-Key": "slow"}).status_code))
    sender.start()
    _wait_for(lambda: emulator.state.idempotent(emulator.api_key, "slow"), "the request to be in flight")
    emulator.reset(EmulatorConfig())
    sender.join(30)
    assert answers == [200]
    assert emulator.requests() == []
    assert _post(emulator).status_code == 200
    assert len(emulator.requests()) == 1


def test_a_request_in_flight_across_a_reset_settles_with_the_test_before(emulator: Emulator) -> None:
    """Arrived before the reset, charged after it: no credits, rate window or count of the next test move."""
    cost = emulator.config.models["p-video"].credits("720p", True, 1)
    config = EmulatorConfig(keys={DEFAULT_API_KEY: KeyPolicy(credits=cost, rate_limit=1)}, render="fast")
    emulator.reset(config)
    emulator.inject("slow", delay=1.0)  # sleeps before authenticating, charging and rendering
    answers: list[int] = []
    sender = threading.Thread(target=lambda: answers.append(_post(emulator).status_code))
    sender.start()
    _wait_for(lambda: emulator.state.faults.pending() == 0, "the request to take its fault")
    emulator.reset(config)  # the next test: the same key, credits for exactly one generation, one a minute
    sender.join(30)
    assert answers == [200]
    assert emulator.state.credits(DEFAULT_API_KEY) == cost
    assert emulator.generations == 0
    assert emulator.requests() == []
    mine = _post(emulator)
    assert mine.status_code == 200  # neither out of credits (402) nor over the rate limit (429)
    assert emulator.generations == 1
    assert emulator.state.credits(DEFAULT_API_KEY) == 0


def test_a_refund_after_a_reset_goes_to_the_period_it_was_charged_in(emulator: Emulator) -> None:
    """The ledger a request charged is the one it refunds: never the next test's credits."""
    emulator.reset(EmulatorConfig(keys={DEFAULT_API_KEY: KeyPolicy(credits=100)}))
    before = emulator.state.ledger
    before.charge(DEFAULT_API_KEY, 100)
    emulator.reset()
    before.refund(DEFAULT_API_KEY, 100)
    before.count_generation()
    assert emulator.state.credits(DEFAULT_API_KEY) == 100
    assert emulator.generations == 0
