"""Standard logging under ``qubrid_video``; ``QUBRID_LOG=debug`` (or ``info``) turns it on.

Log lines carry method, status, request id, attempt and timing; never the API key or file contents.
"""

from __future__ import annotations

import logging
import os

ENV = "QUBRID_LOG"


def configure_from_env() -> None:
    """Attach a stderr handler to the ``qubrid_video`` logger when ``QUBRID_LOG`` asks for it."""
    level = os.environ.get(ENV, "").strip().upper()
    if level not in ("DEBUG", "INFO"):
        return
    logger = logging.getLogger("qubrid_video")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
