"""A local Qubrid Video API for development and tests: spec-faithful, renders real videos, fails on demand.

Install with ``pip install 'qubrid-video[emulator]'``. Start it from Python::

    from qubrid_video_emulator import Emulator

    with Emulator() as emulator:
        ...  # emulator.base_url, emulator.api_key, emulator.inject("502"), emulator.requests()

or from the command line with ``qubrid-video emulator``.
"""

from ._catalog import Catalog, ModelSpec
from ._config import DEFAULT_API_KEY, EmulatorConfig, KeyPolicy
from ._faults import Fault, FaultKind
from ._server import Emulator

__all__ = [
    "DEFAULT_API_KEY",
    "Catalog",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "FaultKind",
    "KeyPolicy",
    "ModelSpec",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__"):
        _obj.__module__ = __name__
