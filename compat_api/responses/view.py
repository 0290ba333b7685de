"""``/v1/responses`` and the stored-response endpoints: parse, call one service, answer."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.http import HttpResponseBase
from rest_framework.request import Request

from compat_api.errors import InvalidRequest
from compat_api.json_response import CompactJsonResponse
from compat_api.openai_api_view import InferenceApiView, OpenAIApiView
from compat_api.request_lifecycle import RequestLifecycle, authenticated_key, lifecycle_of
from compat_api.responses.input_item_list import (
    InputItemsQuerySerializer,
    input_item_list_json,
)
from compat_api.responses.request_schema import ResponsesRequestSerializer
from compat_api.responses.response_store import (
    delete_response,
    get_response,
    list_input_items,
)
from compat_api.responses.response_stream import ResponseStream
from compat_api.sse_response import sse_response


class ResponsesView(InferenceApiView):
    usage_endpoint = "responses"

    async def respond(self, lifecycle: RequestLifecycle) -> HttpResponseBase:
        responses_request = await lifecycle.compute(ResponsesRequestSerializer.parse, lifecycle.request_json())
        stream = await ResponseStream.open(
            responses_request, tenant_id=authenticated_key(lifecycle).tenant_id, lifecycle=lifecycle
        )
        # The body's "stream" decides, never the Accept header.
        if responses_request.stream:
            return sse_response(stream.sse_bytes())
        return CompactJsonResponse(dict(await stream.body()))


class ResponseDetailView(OpenAIApiView):
    async def get(self, request: Request, response_id: str) -> HttpResponseBase:
        if request.query_params.get("stream") in ("true", "1"):
            raise InvalidRequest(
                "Replaying a stored response as a stream is only for background responses, "
                "which this server does not run.",
                param="stream",
                code="unsupported_value",
            )
        response = await database_sync_to_async(get_response)(
            tenant_id=authenticated_key(lifecycle_of(request)).tenant_id, response_id=response_id
        )
        return CompactJsonResponse(dict(response))

    async def delete(self, request: Request, response_id: str) -> HttpResponseBase:
        await database_sync_to_async(delete_response)(
            tenant_id=authenticated_key(lifecycle_of(request)).tenant_id, response_id=response_id
        )
        return CompactJsonResponse({"id": response_id, "object": "response", "deleted": True})


class ResponseInputItemsView(OpenAIApiView):
    async def get(self, request: Request, response_id: str) -> HttpResponseBase:
        query = InputItemsQuerySerializer.parse(request.query_params)
        page = await database_sync_to_async(list_input_items)(
            tenant_id=authenticated_key(lifecycle_of(request)).tenant_id,
            response_id=response_id,
            limit=query.limit,
            order=query.order,
            after=query.after,
        )
        return CompactJsonResponse(input_item_list_json(page))
