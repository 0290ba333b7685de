"""Base classes of the /v1 views: a request already authenticated by its owner, OpenAI's errors.

The consumer hands the view a request whose ``RequestLifecycle`` (compat_api/request_lifecycle.py)
has authenticated it with this class's ``authentication_classes``, admitted it and read its body.
adrf's ``async_dispatch`` would run DRF's ``initial()`` through ``sync_to_async`` — a thread hop
per request that costs more than the rest of the path — so this dispatch does the remaining steps
natively: negotiate, run the handler, map exceptions with the OpenAI handler.

The two inference endpoints skip even that: the consumer awaits ``InferenceApiView.serve`` with
the request's owner, which has all they read (key, body). DRF's request wrapper, its dispatch
and the Django view function around it were about 7 % of a non-streaming request's CPU
(bench/RESULTS.md); their schemas, authentication class and exception handler are DRF's as before.
"""

from __future__ import annotations

from typing import Any, ClassVar

from adrf.views import APIView
from django.http import HttpResponseBase, JsonResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from accounts.api_key_authentication import ApiKeyAuthentication
from compat_api.exception_handler import openai_exception_handler
from compat_api.json_response import CompactJsonResponse
from compat_api.request_lifecycle import RequestLifecycle, lifecycle_of
from paddler_protocol.errors import UpstreamError


class OpenAIApiView(APIView):  # type: ignore[misc]  # adrf has no type hints
    authentication_classes = [ApiKeyAuthentication]
    permission_classes: ClassVar[list[Any]] = []
    throttle_classes: ClassVar[list[Any]] = []
    # No view reads ``request.data``: a body is read from its owner (``request_json``), which
    # decoded it already (bounded, maybe off the loop).
    parser_classes: ClassVar[list[Any]] = []
    renderer_classes = [JSONRenderer]
    # Set on inference views ("chat.completions", "responses"): those requests are metered.
    usage_endpoint: ClassVar[str | None] = None

    def get_exception_handler(self) -> Any:
        return openai_exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The API answers JSON or SSE as the body's "stream" says, never by Accept: the SDKs
        # send Accept: application/json on streaming requests, curl users text/event-stream.
        # So no Accept header is parsed (DRF's negotiation took 2.7 % of the loop's samples).
        renderer = self.renderer_classes[0]()
        return renderer, renderer.media_type

    async def async_dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.args, self.kwargs = args, kwargs
        lifecycle: RequestLifecycle = request.lifecycle
        drf_request = self.initialize_request(request, *args, **kwargs)
        drf_request.user, drf_request.auth = request.user, request.auth
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.format_kwarg = self.get_format_suffix(**kwargs)
            renderer, media_type = self.perform_content_negotiation(drf_request)
            drf_request.accepted_renderer, drf_request.accepted_media_type = renderer, media_type
            handler = getattr(self, request.method.lower(), None)
            if handler is None or request.method.lower() not in self.http_method_names:
                response = self.http_method_not_allowed(drf_request, *args, **kwargs)
            else:
                response = await handler(drf_request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the OpenAI handler maps all; unknown ones are 500s
            response = self.handle_refusal(exc, lifecycle)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    def handle_refusal(self, exc: Exception, lifecycle: RequestLifecycle) -> JsonResponse:
        """The error answer for ``exc``, recorded on the request's usage record."""
        response = openai_exception_handler(exc, {"view": self})
        lifecycle.refused(exc, status=response.status_code, upstream_failed=isinstance(exc, UpstreamError))
        return response

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if isinstance(response, (JsonResponse, CompactJsonResponse)) or getattr(response, "streaming", False):
            # Already final: skip DRF's renderer negotiation and Vary handling.
            for name, value in self.headers.items():
                response[name] = value
            return response
        finalized: HttpResponseBase = super().finalize_response(request, response, *args, **kwargs)
        return finalized


class InferenceApiView(OpenAIApiView):
    """A metered POST endpoint, answered from the request's owner by ``respond``."""

    async def respond(self, lifecycle: RequestLifecycle) -> HttpResponseBase:
        raise NotImplementedError

    async def serve(self, lifecycle: RequestLifecycle) -> HttpResponseBase:
        """The answer to a POST, as the consumer awaits it: any refusal in OpenAI's envelope."""
        try:
            return await self.respond(lifecycle)
        except Exception as exc:  # noqa: BLE001 - the OpenAI handler maps all; unknown ones are 500s
            return self.handle_refusal(exc, lifecycle)

    async def post(self, request: Request) -> HttpResponseBase:
        # Reached only through DRF's dispatch (the consumer calls ``serve``); kept so that DRF
        # lists POST among the allowed methods of a 405 and of OPTIONS.
        return await self.respond(lifecycle_of(request))
