"""``qubrid-video download URL``: save a video that was generated but not saved.

This is the command every post-generation failure of ``generate`` prints. It resumes after dropped
connections, writes atomically and never overwrites without ``--overwrite``, like the SDK's
``Video.download``. The API key goes only to the API's own origin, never to a CDN.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import click
import qubrid_video as qv

from ._exits import EPILOG, USAGE, CommandError, JsonCommand, reported
from ._save import TIMEOUT_HELP, check_destination, save

OPTIONS = {"dest": "-o/--output", "overwrite": "--overwrite"}


@click.command(cls=JsonCommand, epilog=EPILOG)
@click.argument("url")
@click.option("-o", "--output", default=".", show_default=True, metavar="FILE|DIR",
              help="Where to save the video (a directory: named from the URL); the directory must exist.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.option("--request-id", metavar="ID", help="The generation's request id, shown in the result.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help=TIMEOUT_HELP.format(what="download"))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result object and nothing else.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def download(
    *, url: str, output: str, overwrite: bool, request_id: str | None, timeout: float | None, as_json: bool, debug: bool
) -> None:
    """Download a generated video from its URL: resumable, atomic, never clobbering a file.

    With QUBRID_API_KEY set, the key is sent only when the URL is on the API's own origin
    (QUBRID_BASE_URL); a CDN never sees it.
    """
    with reported(debug, as_json=as_json) as report:
        report.options, report.output, report.fetch_only = OPTIONS, output, True
        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            valid = False
        if not valid:
            raise CommandError("URL: expected the video's http(s) URL", USAGE)
        client = qv.Qubrid() if os.environ.get("QUBRID_API_KEY") else None
        try:
            downloader = client.downloader if client is not None else qv.Downloader()
            report.video = qv.Video(url=url, created=None, request_id=request_id, downloader=downloader)
            target = check_destination(output, overwrite=overwrite)
            save(report.video, target, overwrite=overwrite, as_json=as_json, timeout=timeout)
        finally:
            if client is not None:
                client.close()
