"""The distribution's version, read by the build backend and exported as ``qubrid_video.__version__``."""

__version__ = "0.1.0"
