"""Gives every request served by Django's handler (admin, portal, management API) a request id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from foundation.request_context import current_request_id, new_request_id


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        request_id = new_request_id()
        token = current_request_id.set(request_id)
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["x-request-id"] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        request_id = new_request_id()
        token = current_request_id.set(request_id)
        try:
            response: HttpResponseBase = await self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["x-request-id"] = request_id
        return response
