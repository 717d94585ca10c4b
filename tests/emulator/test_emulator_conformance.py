"""Schemathesis, a third-party fuzzer, drives the running emulator with the spec and checks every answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from qubrid_video import contract
from qubrid_video_emulator import Emulator
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_dict(contract.spec())
schema.config.generation.update(modes=list(GenerationMode), max_examples=60, database="none")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def running() -> Iterator[Emulator]:
    """One emulator for the whole run; schemathesis sends hundreds of requests."""
    with Emulator() as emulator:
        yield emulator


@schema.parametrize()
def test_emulator_conforms_to_spec(case: schemathesis.Case, running: Emulator) -> None:
    """Every generated request, valid or not, gets an answer the spec allows; invalid ones are refused."""
    headers = {"Authorization": f"Bearer {running.api_key}"}
    case.call_and_validate(base_url=running.base_url, headers=headers, checks=CHECKS, timeout=120)


def test_fuzzing_reached_the_renderer(running: Emulator) -> None:
    """The run above produced real generations, not only rejections (runs after it, in file order)."""
    outcomes = {r.outcome for r in running.requests()}
    assert "generated" in outcomes
    assert any(o and o.startswith("error:") for o in outcomes)
