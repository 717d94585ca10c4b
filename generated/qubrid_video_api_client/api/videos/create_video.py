from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.authentication_error_response import AuthenticationErrorResponse
from ...models.backend_unavailable_error_response import BackendUnavailableErrorResponse
from ...models.error_response import ErrorResponse
from ...models.insufficient_quota_error_response import InsufficientQuotaErrorResponse
from ...models.model_not_found_error_response import ModelNotFoundErrorResponse
from ...models.permission_error_response import PermissionErrorResponse
from ...models.rate_limit_error_response import RateLimitErrorResponse
from ...models.server_error_response import ServerErrorResponse
from ...models.video_generation_multipart_request import VideoGenerationMultipartRequest
from ...models.video_generation_request import VideoGenerationRequest
from ...models.video_generation_response import VideoGenerationResponse
from ...models.video_timeout_error_response import VideoTimeoutErrorResponse
from ...types import Response


def _get_kwargs(
    *,
    body: VideoGenerationRequest | VideoGenerationMultipartRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/videos/generations",
    }

    if isinstance(body, VideoGenerationRequest):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, VideoGenerationMultipartRequest):
        _kwargs["files"] = body.to_multipart()

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    AuthenticationErrorResponse
    | BackendUnavailableErrorResponse
    | ErrorResponse
    | InsufficientQuotaErrorResponse
    | ModelNotFoundErrorResponse
    | PermissionErrorResponse
    | RateLimitErrorResponse
    | ServerErrorResponse
    | VideoGenerationResponse
    | VideoTimeoutErrorResponse
    | None
):
    if response.status_code == 200:
        response_200 = VideoGenerationResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = AuthenticationErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = InsufficientQuotaErrorResponse.from_dict(response.json())

        return response_402

    if response.status_code == 403:
        response_403 = PermissionErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ModelNotFoundErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = RateLimitErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ServerErrorResponse.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = BackendUnavailableErrorResponse.from_dict(response.json())

        return response_502

    if response.status_code == 504:
        response_504 = VideoTimeoutErrorResponse.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    AuthenticationErrorResponse
    | BackendUnavailableErrorResponse
    | ErrorResponse
    | InsufficientQuotaErrorResponse
    | ModelNotFoundErrorResponse
    | PermissionErrorResponse
    | RateLimitErrorResponse
    | ServerErrorResponse
    | VideoGenerationResponse
    | VideoTimeoutErrorResponse
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: VideoGenerationRequest | VideoGenerationMultipartRequest,
) -> Response[
    AuthenticationErrorResponse
    | BackendUnavailableErrorResponse
    | ErrorResponse
    | InsufficientQuotaErrorResponse
    | ModelNotFoundErrorResponse
    | PermissionErrorResponse
    | RateLimitErrorResponse
    | ServerErrorResponse
    | VideoGenerationResponse
    | VideoTimeoutErrorResponse
]:
    """Create Video

     Generate a video using text, optional image input, optional audio input, or uploaded files.

    Args:
        body (VideoGenerationRequest):
        body (VideoGenerationMultipartRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuthenticationErrorResponse | BackendUnavailableErrorResponse | ErrorResponse | InsufficientQuotaErrorResponse | ModelNotFoundErrorResponse | PermissionErrorResponse | RateLimitErrorResponse | ServerErrorResponse | VideoGenerationResponse | VideoTimeoutErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: VideoGenerationRequest | VideoGenerationMultipartRequest,
) -> (
    AuthenticationErrorResponse
    | BackendUnavailableErrorResponse
    | ErrorResponse
    | InsufficientQuotaErrorResponse
    | ModelNotFoundErrorResponse
    | PermissionErrorResponse
    | RateLimitErrorResponse
    | ServerErrorResponse
    | VideoGenerationResponse
    | VideoTimeoutErrorResponse
    | None
):
    """Create Video

     Generate a video using text, optional image input, optional audio input, or uploaded files.

    Args:
        body (VideoGenerationRequest):
        body (VideoGenerationMultipartRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuthenticationErrorResponse | BackendUnavailableErrorResponse | ErrorResponse | InsufficientQuotaErrorResponse | ModelNotFoundErrorResponse | PermissionErrorResponse | RateLimitErrorResponse | ServerErrorResponse | VideoGenerationResponse | VideoTimeoutErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: VideoGenerationRequest | VideoGenerationMultipartRequest,
) -> Response[
    AuthenticationErrorResponse
    | BackendUnavailableErrorResponse
    | ErrorResponse
    | InsufficientQuotaErrorResponse
    | ModelNotFoundErrorResponse
    | PermissionErrorResponse
    | RateLimitErrorResponse
    | ServerErrorResponse
    | VideoGenerationResponse
    | VideoTimeoutErrorResponse
]:
    """Create Video

     Generate a video using text, optional image input, optional audio input, or uploaded files.

    Args:
        body (VideoGenerationRequest):
        body (VideoGenerationMultipartRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuthenticationErrorResponse | BackendUnavailableErrorResponse | ErrorResponse | InsufficientQuotaErrorResponse | ModelNotFoundErrorResponse | PermissionErrorResponse | RateLimitErrorResponse | ServerErrorResponse | VideoGenerationResponse | VideoTimeoutErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: VideoGenerationRequest | VideoGenerationMultipartRequest,
) -> (
    AuthenticationErrorResponse
    | BackendUnavailableErrorResponse
    | ErrorResponse
    | InsufficientQuotaErrorResponse
    | ModelNotFoundErrorResponse
    | PermissionErrorResponse
    | RateLimitErrorResponse
    | ServerErrorResponse
    | VideoGenerationResponse
    | VideoTimeoutErrorResponse
    | None
):
    """Create Video

     Generate a video using text, optional image input, optional audio input, or uploaded files.

    Args:
        body (VideoGenerationRequest):
        body (VideoGenerationMultipartRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuthenticationErrorResponse | BackendUnavailableErrorResponse | ErrorResponse | InsufficientQuotaErrorResponse | ModelNotFoundErrorResponse | PermissionErrorResponse | RateLimitErrorResponse | ServerErrorResponse | VideoGenerationResponse | VideoTimeoutErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
