"""The command group; each subcommand lives in a module of its own."""

from __future__ import annotations

import platform

import click
from qubrid_video import __version__

from ._batch import batch
from ._complete import completion
from ._download import download
from ._drift import contract_check, drift
from ._emulator import emulator
from ._exits import EPILOG
from ._generate import generate


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(
    __version__, prog_name="qubrid-video", message=f"%(prog)s %(version)s (Python {platform.python_version()})"
)
def cli() -> None:
    """Generate videos with the Qubrid Video API, or run a local emulator of it."""


cli.add_command(generate)
cli.add_command(download)
cli.add_command(batch)
cli.add_command(emulator)
cli.add_command(drift)
cli.add_command(contract_check)
cli.add_command(completion)
