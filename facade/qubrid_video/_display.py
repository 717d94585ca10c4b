"""How a video shows in a notebook: a player on its URL, built without fetching anything.

The URL and the request id come from the server, so everything is HTML-escaped, and only an
http(s) URL goes into a ``src`` or ``href``: a ``javascript:`` or ``data:`` URL, or one hiding a
scheme behind spaces or control characters (which browsers drop), is shown as text only.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlsplit

# Whitespace and control characters: browsers strip or skip some of them inside a URL, so they
# could make a URL that looks like http(s) here mean something else there.
_HIDING = re.compile(r"[\x00-\x20\x7f-\x9f]")


def linkable(url: str) -> bool:
    """Whether `url` may be a ``src`` or ``href``: an http(s) URL with a host, nothing hidden in it."""
    if _HIDING.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # an invalid IPv6 host, for one
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def video_html(url: str, request_id: str | None, created: dt.datetime | None) -> str:
    """A small HTML block: a ``<video controls>`` player on `url`, then the request id, creation time and a link."""
    shown = html.escape(url, quote=True)
    if linkable(url):
        # preload="metadata": the browser shows the first frame and the length, not the whole video.
        player = f'<video controls preload="metadata" src="{shown}" style="max-width: 100%"></video>'
        link = f'<a href="{shown}" target="_blank" rel="noopener noreferrer">{shown}</a>'
    else:
        player = ""
        link = f"<code>{shown}</code> (not an http(s) URL, so not linked)"
    details = [f"request id <code>{html.escape(request_id, quote=True)}</code>" if request_id else "no request id"]
    if created is not None:
        details.append(f"created {html.escape(created.isoformat(), quote=True)}")
    return f'<div class="qubrid-video">{player}<div>{" · ".join(details)}</div><div>{link}</div></div>'
