"""The DRF exception handler of the /v1 views: OpenAI's envelope, always JSON, never HTML."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, JsonResponse
from rest_framework.exceptions import APIException

from compat_api.error_envelope import describe_error, error_body
from foundation.errors import OarlockError

logger = logging.getLogger(__name__)


def openai_exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse:
    description = describe_error(exc)
    if not isinstance(exc, (OarlockError, APIException, Http404)):
        logger.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    elif description.status >= 500:
        logger.warning("upstream error %s: %s", type(exc).__name__, description.message)
    response = JsonResponse(error_body(description), status=description.status)
    for name, value in description.headers.items():
        response[name] = value
    if description.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="oarlock"'
    return response
