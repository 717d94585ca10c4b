"""A local Qubrid Video API for development and tests: spec-faithful, renders real videos, fails on demand.

Install with ``pip install 'qubrid-video[emulator]'``. Start it from Python::

    from qubrid_video_emulator import Emulator

    with Emulator() as emulator:
        ...  # emulator.base_url, emulator.api_key, emulator.inject("502"), emulator.requests()

or from the command line with ``qubrid-video emulator``. Under pytest, the fixtures of
:mod:`qubrid_video_emulator.pytest_plugin` (``qubrid_emulator``, ``qubrid_client``,
``async_qubrid_client``) are there without any import.
"""

from typing import TYPE_CHECKING

from ._catalog import Catalog
from ._config import DEFAULT_API_KEY, EmulatorConfig, KeyPolicy
from ._entry import ModelSpec
from ._faults import Fault, FaultKind
from ._records import DownloadRecord, GenerationRecord, UploadRecord

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = [
    "DEFAULT_API_KEY",
    "Catalog",
    "DownloadRecord",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "FaultKind",
    "GenerationRecord",
    "KeyPolicy",
    "ModelSpec",
    "UploadRecord",
]


def _public(obj: object) -> None:
    if hasattr(obj, "__module__"):
        obj.__module__ = __name__


def __getattr__(name: str) -> object:
    # The server needs uvicorn, Starlette and PyAV (the `emulator` extra; half a second to import).
    # Loading it on first use lets pytest load the plugin, and anyone import the types, without them.
    if name == "Emulator":
        from ._server import Emulator  # noqa: PLC0415

        _public(Emulator)
        globals()[name] = Emulator
        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


for _name in __all__:
    if _name in globals():
        _public(globals()[_name])
