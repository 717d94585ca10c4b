"""The contract the emulator serves, as the emulator asks about it; :mod:`qubrid_video.contract` reads the spec."""

from __future__ import annotations

import functools

from qubrid_video.contract import OPERATION, api_prefix, error_example

__all__ = ["OPERATION_PATH", "api_prefix", "error_defaults"]

OPERATION_PATH = OPERATION.path


@functools.cache
def error_defaults(status: int) -> tuple[str, str, str]:
    """Return the spec's example (type, code, message) for a documented error status.

    The emulator answers with what the vendor documents, quirks included (the 403 example's code
    is ``insufficient_quota``), so SDKs are tested against the contract as published.
    """
    example = error_example(status)
    return example["type"], example["code"], example["message"]
