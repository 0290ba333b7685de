"""Base class of the /v1 views: async authentication, the usage meter, OpenAI's error envelope.

adrf's ``async_dispatch`` runs DRF's ``initial()`` (authentication included) through
``sync_to_async`` — a thread hop per request that costs more than the rest of the path. This
dispatch does the same steps natively: negotiate, authenticate (awaited), start the meter, run
the handler, map exceptions with the OpenAI handler.
"""

from __future__ import annotations

from typing import Any, ClassVar

from adrf.views import APIView
from django.http import HttpResponseBase, JsonResponse
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from accounts.api_key_authentication import ApiKeyAuthentication
from compat_api.api_call import ApiCall, current_api_call
from compat_api.exception_handler import openai_exception_handler
from paddler_protocol.errors import UpstreamError
from foundation.request_context import current_request_id
from usage.usage_meter import UsageMeter


class OpenAIApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes: ClassVar[list[Any]] = []
    throttle_classes: ClassVar[list[Any]] = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    # Set on inference views ("chat.completions", "responses"): those requests are metered.
    usage_endpoint: ClassVar[str | None] = None

    def get_exception_handler(self) -> Any:
        return openai_exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The API answers JSON or SSE as the body's "stream" says, never by Accept: the SDKs
        # send Accept: application/json on streaming requests, curl users text/event-stream.
        return super().perform_content_negotiation(request, force=True)

    async def async_dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.format_kwarg = self.get_format_suffix(**kwargs)
            renderer, media_type = self.perform_content_negotiation(drf_request)
            drf_request.accepted_renderer, drf_request.accepted_media_type = renderer, media_type
            await self._authenticate(drf_request)
            handler = getattr(self, request.method.lower(), None)
            if handler is None or request.method.lower() not in self.http_method_names:
                handler = self.http_method_not_allowed
                response = handler(drf_request, *args, **kwargs)
            else:
                response = await handler(drf_request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    async def _authenticate(self, request: Request) -> None:
        authenticator = ApiKeyAuthentication()
        principal, key = await authenticator.authenticate(request)
        request._authenticator = authenticator
        request.user, request.auth = principal, key
        if self.usage_endpoint is None:
            return
        meter = UsageMeter(
            request_id=current_request_id.get(),
            endpoint=self.usage_endpoint,
            tenant_id=key.tenant_id,
            api_key_id=key.key_id,
            # Names go on the usage record: billing data outlives renamed and deleted keys.
            tenant_name=key.tenant_name, key_name=key.key_name, key_prefix=key.key_prefix,
            owner_id=key.owner_id, owner_name=key.owner_name,
        )
        call = ApiCall(request_id=meter.request_id, key=key, meter=meter)
        current_api_call.set(call)
        request._request.api_call = call
        request.usage_meter = meter

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        response = openai_exception_handler(exc, self.get_exception_handler_context())
        meter: UsageMeter | None = getattr(self.request, "usage_meter", None)
        if meter is not None and not meter.finished:
            if not meter.model:
                meter.model = _requested_model(self.request)
            meter.streamed = _requested_stream(self.request)
            # Refused by us before the upstream (validation, limits) is "rejected"; anything
            # that went wrong on the way to or inside Paddler "failed".
            outcome = "failed" if isinstance(exc, UpstreamError) else "rejected"
            meter.finish(outcome=outcome, http_status=response.status_code, error=exc)
        return response

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if isinstance(response, JsonResponse) or getattr(response, "streaming", False):
            # Already final: skip DRF's renderer negotiation and Vary handling.
            for name, value in self.headers.items():
                response[name] = value
            return response
        return super().finalize_response(request, response, *args, **kwargs)


def _parsed_body(request: Any) -> dict[str, Any]:
    data = getattr(request, "_full_data", None)
    return data if isinstance(data, dict) else {}


def _requested_model(request: Any) -> str:
    model = _parsed_body(request).get("model")
    return model if isinstance(model, str) else ""


def _requested_stream(request: Any) -> bool:
    return _parsed_body(request).get("stream") is True
