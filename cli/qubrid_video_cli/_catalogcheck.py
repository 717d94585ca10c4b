"""``contract-check``'s look at the model catalog: does the live API refuse and allow what the catalog says?

The spec states no allowed values; the emulator's catalog does (``models.yaml``). Each probe asks
for a value no model could take (a nonsense label, -1 frames per second), so the answer is a 400
and nothing is billed; the 400 should name the field, and when its message lists what is allowed,
that list is compared with the catalog's. A value the catalog refuses but the live API might
accept (``480p``) is not probed: that answer could be a billed video. Differences are notes, not
failures: the catalog is what pages published, the spec is the contract.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

# One value per field that no model takes: the live API must refuse it, so it cannot bill for it.
PROBES: dict[str, str | int] = {"resolution": "contract-check", "aspect_ratio": "contract-check", "fps": -1,
                                "duration": -1}  # fmt: skip
_SHAPES = {
    "resolution": re.compile(r"\b\d+[pk]\b", re.IGNORECASE),
    "aspect_ratio": re.compile(r"\b\d+:\d+\b"),
    # Whole numbers not part of a word, a decimal, a ratio or a negative number (the value sent).
    "fps": re.compile(r"(?<![\w.:-])\d+(?![\w.:])"),
    "duration": re.compile(r"(?<![\w.:-])\d+(?![\w.:])"),
}


def load_catalog(models_file: str | None) -> tuple[Any, str | None]:
    """The catalog to compare with (the built-in one, or `models_file`), or None and why not.

    Raises:
        ValueError: `models_file` is not a valid catalog.
    """
    try:
        from qubrid_video_emulator import Catalog  # noqa: PLC0415 - the emulator extra is optional
    except ImportError as exc:
        return None, f"catalog checks skipped: the model catalog ships with the emulator extra ({exc.name} missing)"
    return (Catalog.load(models_file) if models_file else Catalog.default()), None


def expected(spec: Any, field: str) -> set[str]:
    """What the catalog allows for `field`, as a 400's message would list it (a range by its ends)."""
    if field == "resolution":
        return set(spec.resolutions)
    if field == "aspect_ratio":
        return set(spec.aspect_ratios)
    numbers: Sequence[int] = spec.fps if field == "fps" else spec.durations
    if isinstance(numbers, range) and len(numbers) > 2:
        return {str(numbers[0]), str(numbers[-1])}
    return {str(n) for n in numbers}


def listed(field: str, message: str, spec: Any) -> set[str]:
    """The values a 400's message lists for `field`: the catalog's own labels, and anything shaped like one."""
    text = message.replace(spec.name, " ")
    found = set(_SHAPES[field].findall(text))
    if field in ("resolution", "aspect_ratio"):
        labels = spec.resolutions if field == "resolution" else spec.aspect_ratios
        found |= {label for label in labels if re.search(rf"(?<![\w:]){re.escape(label)}(?![\w:])", text)}
    return found


def _verdict(spec: Any, field: str, response: httpx.Response) -> str:
    sent = PROBES[field]
    if response.status_code != 400:
        return f"note: {field}={sent!r} answered HTTP {response.status_code}; the catalog refuses it (expected 400)"
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict) or error.get("param") != field:
        param = error.get("param") if isinstance(error, dict) else None
        return f"note: the 400 names {param!r}, not {field!r}: nothing to compare"
    found, allowed = listed(field, str(error.get("message") or ""), spec), expected(spec, field)
    if not found:
        return "ok (the message lists no values to compare)"
    if found != allowed:
        return f"note: the live API lists {_join(found)}; the catalog allows {_join(allowed)}"
    return f"ok: {_join(found)}, as the catalog says"


def _join(values: set[str]) -> str:
    return ", ".join(sorted(values, key=lambda v: (len(v), v)))


def catalog_rows(http: httpx.Client, url: str, key: str, catalog: Any) -> list[tuple[str, str, str, str]]:
    """Probe each field of each catalog model; one (probe, expected status, got, verdict) row each."""
    rows = []
    for spec in catalog.values():
        for field, value in PROBES.items():
            try:
                response = http.post(
                    url, json={"model": spec.name, field: value}, headers={"Authorization": f"Bearer {key}"}
                )
            except httpx.HTTPError as exc:
                rows.append((f"{spec.name} {field}", "400", "-", f"note: no answer ({type(exc).__name__})"))
                continue
            rows.append((f"{spec.name} {field}", "400", str(response.status_code), _verdict(spec, field, response)))
    return rows


def billable_note(status: str, error: dict[str, Any]) -> str | None:
    """A note when the cheap billable generation, which the catalog allows, was refused with a 400."""
    if status != "400":
        return None
    return f"note: the cheap generation (values the catalog allows) got a 400 naming {error.get('param')!r}"
