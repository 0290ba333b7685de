"""``POST /v1/chat/completions``: parse, open the upstream, answer as SSE or one JSON body."""

from __future__ import annotations

from django.http import HttpResponseBase

from compat_api.chat.chat_completion_stream import ChatCompletionStream
from compat_api.chat.request_schema import ChatCompletionRequestSerializer
from compat_api.json_response import CompactJsonResponse
from compat_api.openai_api_view import InferenceApiView
from compat_api.request_lifecycle import RequestLifecycle
from compat_api.sse_response import sse_response


class ChatCompletionView(InferenceApiView):
    usage_endpoint = "chat.completions"

    async def respond(self, lifecycle: RequestLifecycle) -> HttpResponseBase:
        chat_request = await lifecycle.compute(ChatCompletionRequestSerializer.parse, lifecycle.request_json())
        stream = await ChatCompletionStream.open(chat_request, lifecycle=lifecycle)
        if chat_request.stream:
            return sse_response(stream.sse_bytes())
        return CompactJsonResponse(await stream.body())
