"""The contract the emulator serves: the spec bundled with the generated client, and what it implies."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

OPERATION_PATH = "/videos/generations"


@functools.cache
def load_spec() -> dict[str, Any]:
    """Return the vendor's OpenAPI document that the generated client was built from."""
    text = resources.files("qubrid_video_api_client").joinpath("openapi.yaml").read_text(encoding="utf-8")
    spec: dict[str, Any] = yaml.safe_load(text)
    return spec


def _schema(ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = load_spec()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


@functools.cache
def error_defaults(status: int) -> tuple[str, str, str]:
    """Return the spec's example (type, code, message) for a documented error status.

    The emulator answers with what the vendor documents, quirks included (the 403 example's code
    is ``insufficient_quota``), so SDKs are tested against the contract as published.
    """
    responses = load_spec()["paths"][OPERATION_PATH]["post"]["responses"]
    ref = responses[str(status)]["content"]["application/json"]["schema"]["$ref"]
    props = _schema(ref)["properties"]["error"]["properties"]
    return props["type"]["example"], props["code"]["example"], props["message"]["example"]


def documented_statuses() -> list[int]:
    """Every status code the operation documents."""
    return sorted(int(s) for s in load_spec()["paths"][OPERATION_PATH]["post"]["responses"])


def api_prefix() -> str:
    """The path prefix of the spec's server URL (``/v1``), under which the emulator serves the API."""
    url: str = load_spec()["servers"][0]["url"]
    return "/" + url.split("://", 1)[-1].split("/", 1)[1].strip("/")


def server_origin() -> str:
    """The scheme and host of the spec's server URL, which request validation matches against."""
    url: str = load_spec()["servers"][0]["url"]
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"
