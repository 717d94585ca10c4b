"""Fetch an input image or audio URL, capped in size and time, and offline unless told otherwise."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx


def is_loopback(url: str) -> bool:
    """True when the URL's host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def fetch(url: str, *, allow_remote: bool, timeout: float, max_bytes: int) -> bytes | None:
    """Return the URL's bytes, or None when it is remote and remote fetching is off.

    Raises:
        ValueError: the fetch failed, timed out, answered non-2xx or exceeded `max_bytes`.
    """
    if not (allow_remote or is_loopback(url)):
        return None
    chunks: list[bytes] = []
    received = 0
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 300:
                raise ValueError(f"the URL answered HTTP {response.status_code}")
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise ValueError(f"the file is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ValueError(f"could not fetch it ({type(exc).__name__})") from None
    return b"".join(chunks)
