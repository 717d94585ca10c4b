"""Contains all the data models used in inputs/outputs"""

from .authentication_error_response import AuthenticationErrorResponse
from .authentication_error_response_error import AuthenticationErrorResponseError
from .backend_unavailable_error_response import BackendUnavailableErrorResponse
from .backend_unavailable_error_response_error import BackendUnavailableErrorResponseError
from .error_response import ErrorResponse
from .error_response_error import ErrorResponseError
from .insufficient_quota_error_response import InsufficientQuotaErrorResponse
from .insufficient_quota_error_response_error import InsufficientQuotaErrorResponseError
from .model_not_found_error_response import ModelNotFoundErrorResponse
from .model_not_found_error_response_error import ModelNotFoundErrorResponseError
from .permission_error_response import PermissionErrorResponse
from .permission_error_response_error import PermissionErrorResponseError
from .rate_limit_error_response import RateLimitErrorResponse
from .rate_limit_error_response_error import RateLimitErrorResponseError
from .server_error_response import ServerErrorResponse
from .server_error_response_error import ServerErrorResponseError
from .video_generation_multipart_request import VideoGenerationMultipartRequest
from .video_generation_request import VideoGenerationRequest
from .video_generation_response import VideoGenerationResponse
from .video_generation_response_data_item import VideoGenerationResponseDataItem
from .video_timeout_error_response import VideoTimeoutErrorResponse
from .video_timeout_error_response_error import VideoTimeoutErrorResponseError

__all__ = (
    "AuthenticationErrorResponse",
    "AuthenticationErrorResponseError",
    "BackendUnavailableErrorResponse",
    "BackendUnavailableErrorResponseError",
    "ErrorResponse",
    "ErrorResponseError",
    "InsufficientQuotaErrorResponse",
    "InsufficientQuotaErrorResponseError",
    "ModelNotFoundErrorResponse",
    "ModelNotFoundErrorResponseError",
    "PermissionErrorResponse",
    "PermissionErrorResponseError",
    "RateLimitErrorResponse",
    "RateLimitErrorResponseError",
    "ServerErrorResponse",
    "ServerErrorResponseError",
    "VideoGenerationMultipartRequest",
    "VideoGenerationRequest",
    "VideoGenerationResponse",
    "VideoGenerationResponseDataItem",
    "VideoTimeoutErrorResponse",
    "VideoTimeoutErrorResponseError",
)
