"""Fetch an input image or audio URL, capped in size and time, and offline unless told otherwise."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

MAX_REDIRECTS = 5


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

    Redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop judged by the same rule as
    the first URL: a loopback URL must not become a way off the machine.

    Raises:
        ValueError: the fetch failed, timed out, answered non-2xx, exceeded `max_bytes`, redirected
            too often, or redirected off the machine while remote fetching is off.
    """
    if not (allow_remote or is_loopback(url)):
        return None
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            request = client.build_request("GET", url)
            for _ in range(MAX_REDIRECTS + 1):
                async with client.stream(request.method, request.url) as response:
                    if response.next_request is None:
                        return await _body(response, max_bytes)
                    request = response.next_request
                hop = str(request.url)
                if not (allow_remote or is_loopback(hop)):
                    reason = "which leaves this machine, and fetching remote URLs is off"
                    raise ValueError(f"the URL redirects to {hop[:200]}, {reason}")
    except httpx.HTTPError as exc:
        raise ValueError(f"could not fetch it ({type(exc).__name__})") from None
    raise ValueError(f"the URL redirects more than {MAX_REDIRECTS} times")


async def _body(response: httpx.Response, max_bytes: int) -> bytes:
    if response.status_code >= 300:
        raise ValueError(f"the URL answered HTTP {response.status_code}")
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise ValueError(f"the file is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
