"""The file name ``generate`` gives a video when ``-o`` is a directory: ``<prompt-slug>-<request id>.mp4``.

Readable (``a-red-fox-in-the-snow-req-qubrid-4589de1e83aacbad.mp4``), unique per generation
(the request id), and safe whatever the prompt or the server sent: ASCII letters, digits, ``-``,
``_`` and ``.`` only, never a leading dot, never a Windows device name, bounded in length.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from ._jobs import InvalidLine, check_name

SLUG_CHARS = 40
ID_CHARS = 64
# Extensions kept from the video URL's path; anything else (or none) is saved as .mp4. The SDK's
# own names (``video.download(DIRECTORY)``, so ``qubrid-video download -o DIRECTORY``) keep the
# same ones: tests/cli/test_names.py checks they agree, as the CLI uses only the SDK's public API.
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv"})
# The longest name made here, so the destination's check can try a file name that long before paying.
LONGEST = SLUG_CHARS + 1 + ID_CHARS + max(map(len, VIDEO_EXTENSIONS))
_WORDS = re.compile(r"[a-z0-9]+")
# The characters a request id keeps in a name; the rest becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(prompt: str) -> str:
    """The prompt's words, ASCII-folded and lower-cased, joined by ``-``, at most 40 characters; ``video`` if none.

    ``"Ein Fuchs läuft über den Schnee!"`` -> ``"ein-fuchs-lauft-uber-den-schnee"``; a word that would
    pass the limit is left out rather than cut, unless it is the first.
    """
    folded = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode().lower()
    text = ""
    for word in _WORDS.findall(folded):
        joined = f"{text}-{word}" if text else word
        if len(joined) > SLUG_CHARS:
            text = text or word[:SLUG_CHARS]
            break
        text = joined
    return text or "video"


def _extension(url: str) -> str:
    try:
        suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    except ValueError:  # a URL urlsplit refuses: it cannot name an extension either
        return ".mp4"
    return suffix if suffix in VIDEO_EXTENSIONS else ".mp4"


def default_name(prompt: str, request_id: str | None, url: str) -> str:
    """``<prompt-slug>-<request id><ext>``: the extension from the URL when it is a video's, else ``.mp4``.

    The request id is sanitised (anything but ``A-Za-z0-9._-`` becomes ``_``, no leading or
    trailing ``.``, ``_`` or ``-``) and cut to 64 characters; without one the name is the slug alone.
    """
    ident = _UNSAFE.sub("_", request_id or "")[:ID_CHARS].strip("._-")
    stem = f"{slug(prompt)}-{ident}" if ident else slug(prompt)
    name = f"{stem}{_extension(url)}"
    try:
        return check_name(name)
    except InvalidLine:  # a slug that is a Windows device name ("con", "nul"...) with no id after it
        return f"video-{name}"
