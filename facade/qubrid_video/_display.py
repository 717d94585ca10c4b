"""How a video shows in a notebook: a player on its URL, built without fetching anything.

The URL and the request id come from the server, so everything is HTML-escaped, and only an
http(s) URL goes into a ``src`` or ``href``: a ``javascript:`` or ``data:`` URL, or one hiding a
scheme behind spaces or control characters (which browsers drop), is shown as text only. So is a
URL longer than 8 KiB, which no CDN serves. The text shown is one line, bounded (a URL to 200
characters, a request id to 100), with control and bidi characters escaped (``\u202e``), so
a server cannot make a notebook's output huge or reorder what it shows.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlsplit

from ._errors import FIELD_LIMIT, _one_line

# Whitespace and control characters: browsers strip or skip some of them inside a URL, so they
# could make a URL that looks like http(s) here mean something else there.
_HIDING = re.compile(r"[\x00-\x20\x7f-\x9f]")
MAX_LINKED = 8 * 1024  # longer URLs are shown, not linked: browsers and CDNs stop far below
_URL_SHOWN = 200


def linkable(url: str) -> bool:
    """Whether `url` may be a ``src`` or ``href``: an http(s) URL with a host, nothing hidden in it, at most 8 KiB."""
    if len(url) > MAX_LINKED or _HIDING.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # an invalid IPv6 host, for one
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def video_html(url: str, request_id: str | None, created: dt.datetime | None) -> str:
    """A small HTML block: a ``<video controls>`` player on `url`, then the request id, creation time and a link."""
    shown = _text(url, _URL_SHOWN)
    if linkable(url):
        target = html.escape(url, quote=True)  # the URL itself: a shortened one would lead elsewhere
        # preload="metadata": the browser shows the first frame and the length, not the whole video.
        player = f'<video controls preload="metadata" src="{target}" style="max-width: 100%"></video>'
        link = f'<a href="{target}" target="_blank" rel="noopener noreferrer">{shown}</a>'
    else:
        player = ""
        why = "too long" if len(url) > MAX_LINKED else "not an http(s) URL"
        link = f"<code>{shown}</code> ({why}, so not linked)"
    details = [f"request id <code>{_text(request_id, FIELD_LIMIT)}</code>" if request_id else "no request id"]
    if created is not None:
        details.append(f"created {html.escape(created.isoformat(), quote=True)}")
    return f'<div class="qubrid-video">{player}<div>{" · ".join(details)}</div><div>{link}</div></div>'


def _text(text: str, limit: int) -> str:
    """`text` as one line of at most `limit` characters, control and bidi characters escaped, HTML-escaped."""
    return html.escape(_one_line(text, limit), quote=True)
