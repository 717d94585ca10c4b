"""How an emulator instance behaves: its keys and their limits, its models, its timings and caps."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

import attrs

from ._catalog import Catalog, to_catalog

DEFAULT_API_KEY = "sk-qubrid-emulator"
DRIFT_KINDS = {
    "rename_url": "200 answers name the video field data[].video_url instead of data[].url",
    "created_string": "200 answers give `created` as an ISO string instead of a Unix timestamp",
    "new_status": "successes answer 201, a status the spec does not document",
    "error_code": "error codes change spelling (invalid_request -> err_INVALID_REQUEST)",
    "drop_request_id": "error bodies lack the required request_id",
}


def _model_set(models: Iterable[str] | None) -> frozenset[str] | None:
    return None if models is None else frozenset(models)


def _names(names: Iterable[str]) -> frozenset[str]:
    # A typed converter: mypy's attrs plugin cannot type ``converter=frozenset`` (a generic class),
    # and then refuses ``EmulatorConfig(drift={"rename_url"})`` under --strict.
    return frozenset(names)


@attrs.frozen
class KeyPolicy:
    """What one API key may do.

    Attributes:
        credits: Credits available, or None for unlimited. One credit is US$0.001: a generation costs
            its model's published price (by resolution, draft and seconds of video), so a 5 s 720p
            p-video costs 100. Fewer left than a generation costs: 402.
        models: Models this key may use, or None for all. Another known model: 403.
        rate_limit: Requests per minute, or None for no limit. Over it: 429 with ``Retry-After``.
    """

    credits: int | None = attrs.field(default=None)
    models: frozenset[str] | None = attrs.field(default=None, converter=_model_set)
    rate_limit: int | None = attrs.field(default=None)

    @credits.validator
    def _whole_credits(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"credits must be a whole number of credits, 0 or more, or None, not {value!r}")

    @rate_limit.validator
    def _positive_rate(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(
                f"rate_limit must be a whole number of requests per minute, 1 or more, or None, not {value!r}"
            )


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """Settings for one emulator.

    Attributes:
        keys: Accepted API keys and their policies.
        models: The model catalog: which models exist (any other name gets 404 ``model_not_found``),
            what each accepts (another value gets a 400 naming the field) and what each costs. Give
            a :class:`Catalog`, a catalog file's path (YAML or JSON), a mapping shaped like the file,
            or model names, each then accepting and costing what p-video does. Default: the
            built-in catalog, p-video as published.
        latency: Simulated generation time in seconds, spent asynchronously (holds no worker).
        max_body_bytes: Largest request body accepted; a larger one gets a 400 before it is read whole.
        fetch_remote: Fetch image/audio URLs on non-loopback hosts. Off by default: the emulator stays
            offline and draws the URL instead of its picture.
        fetch_timeout: Seconds allowed for fetching one input URL.
        fetch_max_bytes: Largest input file fetched from a URL.
        render_workers: Threads rendering videos.
        same_origin_files: Serve videos from the API's own origin instead of a second "CDN" origin.
        drift: Ways to depart from the contract on purpose (see ``DRIFT_KINDS``), to test drift checks.
        idle_timeout: Seconds a client has to send a request's headers after connecting (or after the
            first byte of a later request on the connection) before it is closed; None for no limit.
            Idle connections would otherwise hold a file descriptor each, until none is left.
        render: ``"full"`` draws every frame (the input picture, the prompt, a moving marker) and
            encodes it: one to two seconds for 5 s of 1080p. ``"fast"`` serves a plain,
            minimal-bitrate video of the same width, height, frame rate, duration and audio track,
            rendered once per shape (tens of milliseconds) and then reused: for test suites, and
            what the pytest fixtures use.
    """

    keys: dict[str, KeyPolicy] = attrs.field(factory=lambda: {DEFAULT_API_KEY: KeyPolicy()})
    models: Catalog = attrs.field(factory=Catalog.default, converter=to_catalog)
    latency: float = attrs.field(default=0.0)
    max_body_bytes: int = 64 * 1024 * 1024
    fetch_remote: bool = False
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 32 * 1024 * 1024
    render_workers: int = 2
    same_origin_files: bool = False
    drift: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    idle_timeout: float | None = attrs.field(default=10.0)
    render: Literal["fast", "full"] = attrs.field(default="full")

    @idle_timeout.validator
    def _positive_timeout(self, attribute: attrs.Attribute[float | None], value: float | None) -> None:
        if value is not None and not value > 0:
            raise ValueError(f"idle_timeout must be a positive number of seconds or None, not {value!r}")

    @latency.validator
    def _finite_latency(self, attribute: attrs.Attribute[float], value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
            raise ValueError(f"latency must be a finite number of seconds, 0 or more, not {value!r}")

    @render.validator
    def _known_render(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in ("fast", "full"):
            raise ValueError(f"render must be 'fast' or 'full', not {value!r}")

    @drift.validator
    def _known_drift(self, attribute: attrs.Attribute[frozenset[str]], value: frozenset[str]) -> None:
        unknown = sorted(value - set(DRIFT_KINDS))
        if unknown:
            raise ValueError(f"unknown drift {unknown[0]!r}; known: {', '.join(DRIFT_KINDS)}")
