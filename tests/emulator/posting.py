"""A generation request sent to an emulator by plain httpx, as JSON or as a multipart form."""

from __future__ import annotations

from typing import Any

import httpx
from qubrid_video_emulator import Emulator


def post_generation(
    emulator: Emulator, fields: dict[str, Any], files: dict[str, Any] | None = None, *, timeout: float
) -> httpx.Response:
    """POST `fields` (and `files`, as a form, each value written as the API's multipart examples do) with the emulator's key."""
    auth = {"Authorization": f"Bearer {emulator.api_key}"}
    url = f"{emulator.base_url}/videos/generations"
    if files:
        data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
        return httpx.post(url, data=data, files=files, headers=auth, timeout=timeout)
    return httpx.post(url, json=fields, headers=auth, timeout=timeout)
