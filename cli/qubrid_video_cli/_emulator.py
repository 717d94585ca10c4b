"""``qubrid-video emulator``: serve a local Qubrid Video API until stopped."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from ._exits import USAGE, CommandError, reported


def _fault(value: str) -> tuple[str, int]:
    kind, _, count = value.partition(":")
    return kind, int(count or 1)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, help="API port (0: any free port).")
@click.option("--files-port", default=0, show_default=True, help="Port of the emulated CDN serving videos (0: free).")
@click.option("--same-origin-files", is_flag=True, help="Serve videos from the API's own origin instead.")
@click.option(
    "--api-key", "api_keys", multiple=True, help="Accepted API key (repeatable). Default: sk-qubrid-emulator."
)
@click.option(
    "--credits",
    type=int,
    default=None,
    help="Credits per key (1 credit = US$0.001: a 5 s 720p p-video costs 100). Default: unlimited.",
)
@click.option(
    "--models",
    default=None,
    help="Comma-separated models that exist, each accepting what p-video does. Default: p-video.",
)
@click.option(
    "--models-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A model catalog (YAML or JSON, shaped like the built-in one) instead of --models.",
)
@click.option("--allowed-models", default=None, help="Comma-separated models the keys may use (others: 403).")
@click.option(
    "--rate-limit",
    type=int,
    default=None,
    help="Requests per minute per key (over it: 429); p-video's published limit is 250. Default: none.",
)
@click.option("--latency", type=float, default=0.0, show_default=True, help="Simulated generation time, seconds.")
@click.option("--fault", "faults", multiple=True, metavar="KIND[:N]",
              help="Answer the next N requests with a fault: 500, 502, 504, 429, slow, drop_before, drop_mid, "
                   "html, malformed_json, drop_download, slow_download (repeatable).")  # fmt: skip
@click.option("--fault-rate", type=float, default=0.0, help="Fraction of requests that get a random fault.")
@click.option("--fault-kinds", default=None, help="Comma-separated kinds for --fault-rate (default: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --fault-rate.")
@click.option("--fetch-remote", is_flag=True, help="Fetch image/audio URLs on non-loopback hosts (off: offline).")
@click.option("--drift", "drift", multiple=True, metavar="KIND",
              help="Depart from the contract on purpose: rename_url, created_string, new_status, error_code, "
                   "drop_request_id (repeatable).")  # fmt: skip
@click.option("--max-body-mb", type=int, default=64, show_default=True, help="Largest request body accepted.")
@click.option("--idle-timeout", type=float, default=10.0, show_default=True,
              help="Seconds a client has to send a request's headers before its connection is closed.")  # fmt: skip
@click.option("--render", type=click.Choice(["full", "fast"]), default="full", show_default=True,
              help="full: draw the picture and prompt on every frame; fast: a plain video of the same shape, "
                   "in tens of milliseconds (for test suites).")  # fmt: skip
def emulator(**options: Any) -> None:
    """Run a local Qubrid Video API: real MP4s, every documented error, faults on demand.

    Prints the base URL to use as QUBRID_BASE_URL, then serves until Ctrl-C or SIGTERM, either of
    which stops it cleanly (rendered videos deleted) with exit status 0.
    """
    with reported(debug=False):
        try:
            # Lazy: the emulator extra may be missing, and `qubrid-video --help` should not pay for it.
            from qubrid_video_emulator import (  # noqa: PLC0415
                DEFAULT_API_KEY,
                Catalog,
                Emulator,
                EmulatorConfig,
                FaultKind,
                KeyPolicy,
            )
        except ImportError as exc:
            raise CommandError(
                f"the emulator needs {exc.name}, which is not installed: pip install 'qubrid-video[emulator]'", USAGE
            ) from None
    allowed = options["allowed_models"]
    policy = KeyPolicy(
        credits=options["credits"],
        models=allowed.split(",") if allowed else None,
        rate_limit=options["rate_limit"],
    )
    keys = options["api_keys"] or (DEFAULT_API_KEY,)
    if options["models"] is not None and options["models_file"] is not None:
        raise click.UsageError("give --models or --models-file, not both")
    models: Any = [m.strip() for m in (options["models"] or "p-video").split(",") if m.strip()]
    if options["models_file"] is not None:
        try:  # read first, so that a catalog's error names the option that gave it
            models = Catalog.load(options["models_file"])
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--models-file") from None
    try:
        config = EmulatorConfig(
            keys={key: policy for key in keys},
            models=models,
            latency=options["latency"],
            fetch_remote=options["fetch_remote"],
            max_body_bytes=options["max_body_mb"] * 1024 * 1024,
            same_origin_files=options["same_origin_files"],
            drift=options["drift"],
            idle_timeout=options["idle_timeout"],
            render=options["render"],
        )
        server = Emulator(config, host=options["host"], port=options["port"], files_port=options["files_port"])
        for value in options["faults"]:
            kind, count = _fault(value)
            server.inject(FaultKind(kind), count)
        if options["fault_rate"]:
            kinds = options["fault_kinds"].split(",") if options["fault_kinds"] else None
            server.set_fault_rate(options["fault_rate"], kinds, options["seed"])
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    # Read now: `ready` runs once the server's own signal handlers are in place.
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN

    def ready(running: Emulator) -> None:
        click.echo(running.base_url)
        click.echo(f"Qubrid emulator: API {running.base_url}, videos from {running.files_origin}", err=True)
        catalog = running.config.models
        click.echo(f"Models: {', '.join(catalog)} (catalog: {catalog.origin})", err=True)
        if not options["api_keys"]:
            click.echo(f"Use QUBRID_BASE_URL={running.base_url} QUBRID_API_KEY={DEFAULT_API_KEY}", err=True)
        stops = "SIGTERM stops it (SIGINT is ignored, as inherited)" if ignored else "Ctrl-C or SIGTERM stops it"
        click.echo(f"Control API: /_emulator/journal, /_emulator/faults. {stops}.", err=True)
        sys.stdout.flush()

    try:
        server.run(ready)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly: a normal stop
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {options['host']}:{options['port']}: {exc.strerror}") from None
    by = f" ({server.stopped_by.name})" if server.stopped_by is not None else ""
    click.echo(f"Qubrid emulator stopped{by}.", err=True)
