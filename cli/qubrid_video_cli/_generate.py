"""``qubrid-video generate``: one video, with progress, on disk at the end.

The destination is checked before the request is sent, and once the API has returned a video
every failure names it (URL, request id, a ``qubrid-video download`` command): see ``_exits``.
"""

from __future__ import annotations

import uuid
from typing import Any

import click
import qubrid_video as qv

from ._complete import complete_aspect_ratio, complete_model, complete_resolution
from ._connect import client_settings
from ._exits import EPILOG, JsonCommand, reported
from ._progress import Spinner
from ._save import TIMEOUT_HELP, check_destination, is_directory, named, save

# The command's option for each SDK parameter, so errors speak the command's words.
OPTIONS = {"dest": "-o/--output", "overwrite": "--overwrite", "save_audio": "--no-save-audio",
           "prompt_upsampling": "--no-prompt-upsampling", "extra_headers": "--idempotency-key"}  # fmt: skip


@click.command(cls=JsonCommand, epilog=EPILOG)
@click.argument("prompt")
@click.option("--model", default="p-video", show_default=True, metavar="MODEL", shell_complete=complete_model,
              help="Video model.")  # fmt: skip
@click.option("--image", metavar="PATH|URL", help="Input image: a local file (uploaded) or an http(s) URL.")
@click.option("--audio", metavar="PATH|URL", help="Input audio: a local file (uploaded) or an http(s) URL.")
@click.option("--duration", type=int, help="Seconds of video.")
@click.option("--resolution", metavar="RESOLUTION", shell_complete=complete_resolution,
              help="720p or 1080p (other values are sent as given; the API decides).")  # fmt: skip
@click.option("--fps", type=int, help="Frames per second.")
@click.option("--aspect-ratio", metavar="RATIO", shell_complete=complete_aspect_ratio,
              help="16:9, 9:16, 1:1, 4:3, 3:4, 3:2 or 2:3 (others are sent as given).")  # fmt: skip
@click.option("--draft", is_flag=True, help="Faster, lower-quality preview.")
@click.option("--no-save-audio", is_flag=True, help="Drop the input audio from the video.")
@click.option("--no-prompt-upsampling", is_flag=True, help="Use the prompt exactly as given.")
@click.option("-o", "--output", default=".", show_default=True, metavar="FILE|DIR",
              help="Where to save the video. In a directory it is named <prompt-slug>-<request id>.mp4 (a free "
                   "NAME-2.mp4 if that is taken). Checked before anything is sent: the directory must exist and "
                   "be writable.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result object and nothing else.")
@click.option("--idempotency-key", metavar="KEY",
              help="Send this Idempotency-Key (default: a fresh one, printed when a failure may have been billed); "
                   "re-running with the same key makes the API replay instead of billing again.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help=TIMEOUT_HELP.format(what="generation, and again for the download"))  # fmt: skip
@click.option("--emulator", is_flag=True, help="Use the built-in emulator (no key, no network, no cost).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def generate(
    *,
    prompt: str,
    output: str,
    overwrite: bool,
    idempotency_key: str | None,
    timeout: float | None,
    as_json: bool,
    emulator: bool,
    debug: bool,
    **fields: Any,
) -> None:
    """Generate a video from PROMPT and save it.

    While the API works (it can take minutes) a spinner shows the elapsed time; then a bar shows
    the download. Progress is drawn on stderr only when it is a terminal. If saving fails after
    the video was generated, its URL, request id and a `qubrid-video download` command are printed.
    """
    # An unused flag sends nothing, so the API's own default applies.
    fields["draft"] = True if fields["draft"] else None
    fields["save_audio"] = False if fields.pop("no_save_audio") else None
    fields["prompt_upsampling"] = False if fields.pop("no_prompt_upsampling") else None
    with reported(debug, as_json=as_json) as report:
        report.options, report.output = OPTIONS, output
        target = check_destination(output, overwrite=overwrite)
        report.idempotency_key = idempotency_key or f"qv-cli-{uuid.uuid4().hex}"
        with client_settings(emulator) as settings, qv.Qubrid(**settings) as client:
            with Spinner(f"generating with {fields['model']}"):
                report.in_flight = True
                report.video = client.videos.generate(
                    prompt=prompt,
                    timeout=timeout,
                    extra_headers={"Idempotency-Key": report.idempotency_key},
                    **{k: v for k, v in fields.items() if v is not None},
                )
                report.in_flight = False
            if is_directory(output):
                target = named(target, report.video, prompt, overwrite=overwrite)
                report.output = str(target)  # a failed download's printed command then names this file
            save(report.video, target, overwrite=overwrite, as_json=as_json, timeout=timeout)
