"""``qubrid-video drift`` and ``qubrid-video contract-check``: spec drift, and live-API drift."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import attrs
import click
import httpx
import qubrid_video as qv
import yaml
from qubrid_video import contract

from ._catalogcheck import billable_note, catalog_rows, load_catalog
from ._connect import client_settings
from ._exits import USAGE, CommandError, reported
from ._specdiff import BREAKING, Change, diff

# The compatibility run needs the repository's generator inputs and tests, so it lives there.
REGENERATE_MOVED = (
    "--regenerate runs from a source checkout of qubrid-video: `make drift NEW=...` there compares the specs, "
    "regenerates the client from NEW and runs the facade's tests against it. This command compares specs only."
)


def load_spec(source: str) -> dict[str, Any]:
    """A spec from a file path or an http(s) URL (YAML or JSON)."""
    try:
        if source.startswith(("http://", "https://")):
            response = httpx.get(source, timeout=30, follow_redirects=True)
            response.raise_for_status()
            text = response.text
        else:
            text = Path(source).read_text(encoding="utf-8")
        document = yaml.safe_load(text)
    except (OSError, httpx.HTTPError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read a spec from {source}: {exc}") from None
    if not isinstance(document, dict) or "paths" not in document:
        raise click.BadParameter(f"{source} is not an OpenAPI document")
    return document


def _print_changes(changes: list[Change], as_json: bool) -> None:
    if as_json:
        breaking = sum(c.severity == BREAKING for c in changes)
        click.echo(json.dumps({"breaking": breaking, "changes": [_asdict(c) for c in changes]}, indent=2))
        return
    if not changes:
        click.echo("no differences that matter to this SDK")
    for change in changes:
        click.echo(f"{change.severity.upper():<13} {change.rule:<34} {change.pointer}\n{'':<14}{change.message}")
    breaking = sum(c.severity == BREAKING for c in changes)
    click.echo(f"{len(changes)} differences, {breaking} breaking")


def _asdict(change: Change) -> dict[str, str]:
    return {"rule": change.rule, "severity": change.severity, "pointer": change.pointer, "message": change.message}


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--regenerate", is_flag=True, hidden=True)
def drift(old: str, new: str, output_format: str, regenerate: bool) -> None:
    """Compare two OpenAPI specs (paths or URLs) and report what matters to this SDK.

    Exit status 1 when anything is breaking. To also regenerate the client from NEW and run the
    facade's tests against it, run `make drift NEW=...` in a source checkout.
    """
    if regenerate:
        raise click.UsageError(REGENERATE_MOVED)
    changes = diff(load_spec(old), load_spec(new))
    _print_changes(changes, output_format == "json")
    sys.exit(1 if any(c.severity == BREAKING for c in changes) else 0)


# Live conformance.

PROBES: list[dict[str, Any]] = [
    {"name": "no key", "auth": None, "body": {"model": "p-video"}, "status": 401, "example_code": True},
    {"name": "bad key", "auth": "qubrid-contract-check-invalid-key", "body": {"model": "p-video"}, "status": 401},
    {"name": "missing model", "auth": "key", "body": {"prompt": "contract check"}, "status": 400, "param": "model"},
    {"name": "unknown model", "auth": "key", "body": {"model": "qubrid-contract-check-no-such-model"},
     "status": 404, "param": "model", "example_code": True},
]  # fmt: skip
BILLABLE = {"name": "cheap generation (billable)", "auth": "key", "status": 200,
            "body": {"model": "p-video", "prompt": "contract check", "duration": 1, "draft": True}}  # fmt: skip


def _probe(
    http: httpx.Client, url: str, key: str | None, probe: dict[str, Any]
) -> tuple[str, list[str], dict[str, Any]]:
    """Send one probe: the status received, what does not conform, and the error body's fields."""
    headers = {}
    if probe["auth"] == "key":
        headers["Authorization"] = f"Bearer {key}"
    elif probe["auth"]:
        headers["Authorization"] = f"Bearer {probe['auth']}"
    response = http.post(url, json=probe["body"], headers=headers)
    problems = qv.contract_drift(response, thorough=True)
    if response.status_code != probe["status"]:
        problems.insert(0, f"expected HTTP {probe['status']}")
    error: dict[str, Any] = {}
    if response.status_code >= 400:
        try:
            error = response.json().get("error", {})
        except (ValueError, AttributeError):
            error = {}
        error = error if isinstance(error, dict) else {}
        if probe.get("param") and error.get("param") != probe["param"]:
            problems.append(f"param {error.get('param')!r}, expected {probe['param']!r}")
        expected_code = contract.error_example(probe["status"])["code"] if probe.get("example_code") else None
        if expected_code and error.get("code") != expected_code:
            problems.append(f"code {error.get('code')!r}, the spec's example says {expected_code!r}")
    return str(response.status_code), problems, error


def _require_contract_extra() -> None:
    try:
        contract.openapi()
    except ImportError as exc:
        raise CommandError(f"contract-check {exc}", USAGE) from None


Row = tuple[str, str, str, str]


@attrs.frozen
class ProbeReport:
    """What the probes found: the contract table, whether any failed, and the catalog's notes."""

    base: str
    rows: list[Row]
    failed: bool
    catalog: list[Row]
    catalog_heading: str


def _run_probes(base_url: str | None, allow_billable: bool, emulator: bool, models_file: str | None) -> ProbeReport:
    """Send every probe, then the catalog's (keyed probes need a key), and gather what they found."""
    try:
        catalog, skipped = load_catalog(models_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--models-file") from None
    with client_settings(emulator, require_key=False) as settings:
        base = str(
            base_url or settings.get("base_url") or os.environ.get("QUBRID_BASE_URL") or qv.DEFAULT_BASE_URL
        ).rstrip("/")
        key = settings.get("api_key") or os.environ.get("QUBRID_API_KEY")
        probes = PROBES + ([BILLABLE] if allow_billable else [])
        rows: list[Row] = []
        notes: list[Row] = []
        failed = False
        url = base + contract.OPERATION.path
        with httpx.Client(timeout=qv.Timeout().read) as http:
            for probe in probes:
                if probe["auth"] == "key" and not key:
                    rows.append((probe["name"], str(probe["status"]), "-", "skipped: needs QUBRID_API_KEY"))
                    continue
                try:
                    got, problems, error = _probe(http, url, key, probe)
                except httpx.HTTPError as exc:
                    got, problems, error = "-", [f"no answer ({type(exc).__name__})"], {}
                failed = failed or bool(problems)
                rows.append((probe["name"], str(probe["status"]), got, "ok" if not problems else "; ".join(problems)))
                note = billable_note(got, error) if probe is BILLABLE else None
                if note:
                    notes.append(("cheap generation", "200", got, note))
            if catalog is not None and key:
                notes += catalog_rows(http, url, key, catalog)
    if catalog is None:
        heading = skipped or ""
    elif not key:
        heading = "catalog checks skipped: they need QUBRID_API_KEY"
    else:
        heading = f"the model catalog ({catalog.origin}) against the answers; a note does not change the exit status"
    return ProbeReport(base=base, rows=rows, failed=failed, catalog=notes, catalog_heading=heading)


def _table(rows: list[Row]) -> None:
    widths = [max(len(r[i]) for r in [*rows, ("probe", "expected", "got", "")]) for i in range(3)]
    for row in [("probe", "expected", "got", "result"), *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3])


@click.command("contract-check")
@click.option("--base-url", default=None, help="API base URL (default: QUBRID_BASE_URL, else the spec's server).")
@click.option("--allow-billable", is_flag=True, help="Also run one real, cheap generation (draft, 1 s): costs credits.")
@click.option("--emulator", is_flag=True, help="Check the built-in emulator instead.")
@click.option("--models-file", type=click.Path(dir_okay=False), default=None,
              help="The model catalog to compare answers with (default: the emulator's built-in one).")  # fmt: skip
def contract_check(base_url: str | None, allow_billable: bool, emulator: bool, models_file: str | None) -> None:
    """Probe a running API with requests that cannot be billed, and check each answer against the spec.

    Probes: no key, a bad key, a missing model and an unknown model (the last two need
    QUBRID_API_KEY). Prints a conformance table; exit status 1 on any mismatch.

    Then, with a key, the model catalog (the emulator's; the emulator extra provides it): for each
    model, one value per field that no model takes (so nothing is billed), expecting a 400 that
    names the field; when its message lists the allowed values, they are compared with the
    catalog's. A difference is printed as a note and does not change the exit status.
    """
    with reported(debug=False):
        _require_contract_extra()
        report = _run_probes(base_url, allow_billable, emulator, models_file)
    click.echo(f"contract check of {report.base}")
    _table(report.rows)
    if report.catalog_heading:
        click.echo(f"\n{report.catalog_heading}")
    if report.catalog:
        _table(report.catalog)
    sys.exit(1 if report.failed else 0)
