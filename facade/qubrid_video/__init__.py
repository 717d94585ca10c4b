"""Python SDK for the Qubrid Video API.

from qubrid_video import Qubrid

client = Qubrid()  # QUBRID_API_KEY, QUBRID_BASE_URL from the environment
video = client.videos.generate(model="p-video", prompt="A butterfly flying through a flower garden")
path = video.download("butterfly.mp4")

The documented choices of ``generate()``'s parameters are the ``Literal`` types `Resolution`,
`AspectRatio` and `Model`; `MediaInput` is what ``image``/``audio`` take, `Progress` a download's
callback.

The API contract the SDK was generated from (the bundled spec, its examples, validation and the
drift check) is `qubrid_video.contract`.
"""

from . import contract
from ._choices import AspectRatio, Model, Resolution
from ._client import AsyncQubrid, Qubrid
from ._config import DEFAULT_BASE_URL, UNCHANGED, Timeout, Unchanged
from ._download import AsyncDownloader, Downloader
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BackendUnavailableError,
    BadRequestError,
    ContractDriftError,
    DestinationExistsError,
    DownloadError,
    DownloadTimeoutError,
    GenerationTimeoutError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidParameterError,
    ModelNotFoundError,
    NotFoundError,
    ParameterTypeError,
    PermissionDeniedError,
    QubridError,
    RateLimitError,
    ResponseValidationError,
)
from ._logging import configure_from_env as _configure_logging
from ._media import MediaInput
from ._transfer import Progress
from ._version import __version__
from ._video import AsyncVideo, AsyncVideos, Video, Videos
from .contract import ContractDriftWarning, contract_drift

__all__ = [
    "DEFAULT_BASE_URL",
    "UNCHANGED",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AspectRatio",
    "AsyncDownloader",
    "AsyncQubrid",
    "AsyncVideo",
    "AsyncVideos",
    "AuthenticationError",
    "BackendUnavailableError",
    "BadRequestError",
    "ContractDriftError",
    "ContractDriftWarning",
    "DestinationExistsError",
    "DownloadError",
    "DownloadTimeoutError",
    "Downloader",
    "GenerationTimeoutError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidParameterError",
    "MediaInput",
    "Model",
    "ModelNotFoundError",
    "NotFoundError",
    "ParameterTypeError",
    "PermissionDeniedError",
    "Progress",
    "Qubrid",
    "QubridError",
    "RateLimitError",
    "Resolution",
    "ResponseValidationError",
    "Timeout",
    "Unchanged",
    "Video",
    "Videos",
    "__version__",
    "contract",
    "contract_drift",
]

# Tracebacks and reprs read `qubrid_video.RateLimitError`, not the private module it lives in.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj

_configure_logging()
