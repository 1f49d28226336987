"""The one place an error (ApplicationError or any other) becomes the JSON envelope `{error: {…}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.bodies import BodyTooLarge
from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def error_response(code: str, message: str, *, status: int, field: str | None = None) -> JsonResponse:
    """The envelope for plain Django views (health probes, 404/500 handlers under /api/)."""
    return JsonResponse(error_body(code, message, field), status=status)


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error leaves as `{error: {code, message, field?}}`, never a traceback."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.field), status=exc.status)
    if isinstance(exc, RequestDataTooBig):  # a view read request.body past DATA_UPLOAD_MAX_MEMORY_SIZE
        too_large = BodyTooLarge(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return Response(error_body("request_too_large", f"{too_large} (web.max_body_bytes)"), status=413)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, dict(context))
    if response is None:
        logger.exception("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(error_body("internal_error", "Internal error; it has been logged."), status=500)
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        response.data = error_body(code, message, field)
    else:
        response.data = error_body(str(exc.get_codes()), str(exc.detail))
    return response


def _first_error(detail: Any, path: str = "") -> tuple[str | None, str, str]:
    """Walk a DRF error tree to its first leaf: (dotted field path, message, code)."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = path if key == "non_field_errors" else f"{path}.{key}" if path else str(key)
            return _first_error(value, name)
    if isinstance(detail, Sequence) and not isinstance(detail, str):
        for index, value in enumerate(detail):
            if value:
                nested = isinstance(value, Mapping | list)
                return _first_error(value, f"{path}.{index}" if nested and path else path)
    code = getattr(detail, "code", None) or "invalid"
    return (path or None, str(detail), "invalid" if code == "invalid" else str(code))
