"""Validate incoming requests against the spec itself, with openapi-core, and name the bad field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from qubrid_video import contract

from ._errors import RequestError, bad_request

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


def _describe(error: ValidationError) -> RequestError:
    """Turn one jsonschema error into a 400 that names the field and what it accepts."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [str(name) for name in cast(list[object], error.validator_value) if name not in present]
        name = missing[0] if missing else None
        return bad_request(f"Missing required parameter: '{name}'.", param=name)
    param = path[0] if path else None
    if error.validator == "type":
        expected = error.validator_value
        where = f"'{param}'" if param else "The request body"
        return bad_request(f"Invalid type for {where}: expected {expected}.", param=param)
    return bad_request(f"Invalid value for '{param}': {error.validator} {error.validator_value!r}.", param=param)


def validate_request(headers: Mapping[str, str], content_type: str, body: bytes) -> None:
    """Raise a 400 :class:`RequestError` unless the request conforms to the spec.

    Authentication is checked separately, before this, so the security requirement is met here.
    """
    # openapi-core takes a quarter of a second to import: loaded by the first request, not with the server.
    from jsonschema.exceptions import ValidationError  # noqa: PLC0415
    from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError  # noqa: PLC0415
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound  # noqa: PLC0415
    from openapi_core.validation.request.exceptions import MissingRequestBody  # noqa: PLC0415
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue  # noqa: PLC0415

    try:
        # Presented under the spec's own server, so its server list is used as published.
        contract.validate_request(contract.OpenAPIRequest(headers=headers, content_type=content_type, body=body))
    except Exception as exc:
        cause = exc.__cause__
        errors = (
            [e for e in cause.schema_errors if isinstance(e, ValidationError)]
            if isinstance(cause, InvalidSchemaValue)
            else []
        )
        if errors:
            raise _describe(sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])[0]) from None
        if isinstance(cause, MediaTypeNotFound):
            raise bad_request(
                f"Unsupported Content-Type '{content_type.split(';', maxsplit=1)[0]}': "
                "send application/json or multipart/form-data.",
                param=None,
                code="unsupported_content_type",
            ) from None
        if isinstance(cause, MediaTypeDeserializeError):
            raise bad_request("The request body is not valid JSON.", param=None, code="invalid_json") from None
        if isinstance(exc, MissingRequestBody):
            raise bad_request("A request body is required.", param=None) from None
        raise bad_request(f"The request does not match the API contract: {type(exc).__name__}.", param=None) from None
