"""``POST /v1/chat/completions``: parse, open the upstream, answer as SSE or one JSON body."""

from __future__ import annotations

from django.http import HttpResponseBase
from rest_framework.request import Request

from compat_api.chat.chat_completion_stream import ChatCompletionStream
from compat_api.chat.request_schema import ChatCompletionRequestSerializer
from compat_api.json_response import CompactJsonResponse
from compat_api.openai_api_view import OpenAIApiView
from compat_api.request_lifecycle import lifecycle_of
from compat_api.sse_response import sse_response


class ChatCompletionView(OpenAIApiView):
    usage_endpoint = "chat.completions"

    async def post(self, request: Request) -> HttpResponseBase:
        lifecycle = lifecycle_of(request)
        chat_request = await lifecycle.parse(ChatCompletionRequestSerializer.parse, request.data)
        stream = await ChatCompletionStream.open(chat_request, lifecycle=lifecycle)
        if chat_request.stream:
            return sse_response(stream.sse_bytes())
        return CompactJsonResponse(await stream.body())
