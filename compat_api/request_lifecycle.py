"""The life of one /v1 request, from its headers to its usage record: the one file to read.

``RequestLifecycle`` owns a request and is passed explicitly (the consumer makes it, the view
gets it as ``request.lifecycle``). The steps, in the order a gateway needs — a refused request
costs microseconds, not its body:

1. ``begin``   authenticate the key from the headers, with the view's ``authentication_classes``
2. ``begin``   admit the cheap limits: requests per minute, requests in flight
3. ``begin``   read the body (capped) and decode its JSON (depth-bounded; a large body off the
               event loop, so nobody waits behind it)
4. view        validate it (serializers) and translate it to Paddler params
               (``compat_api/<endpoint>/paddler_params.py``), both through ``compute``: off the
               loop for a large body
5. ``open_upstream``  model access, then the token estimate reserved against tokens per minute
               and budgets. After translation on purpose: the estimate counts the conversation
               Paddler will see, stored history (``previous_response_id``) included
6. ``open_upstream``  Paddler's stream, its first message awaited: a refusal (overflow → 503,
               see ``compat_api/error_envelope.py``) is still a real HTTP status
7. view        relay: the endpoint's stream (``compat_api/relay_stream.py``) turns messages into
               chunks or events, and finishes the meter with the outcome it saw
8. ``close``   settle and record exactly once, however the request ended: the meter is
               finished if nothing else did (refused, client gone, server shutdown), and every
               admission is released with the tokens really used
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.request import Request

from accounts.admission import Admission, admit_call, reserve_tokens
from accounts.admission_release import release_admissions
from accounts.authenticated_key import AuthenticatedKey
from accounts.limit_store import AdmissionPlan
from compat_api.errors import InvalidRequest, PayloadTooLarge
from compat_api.request_limits import is_recordable_model
from compat_api.upstream_stream import UpstreamStream, estimate_prompt_tokens, estimate_tokens
from paddler_protocol.conversation_params import ConversationParams
from usage.usage_meter import Outcome, UsageMeter

logger = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]
T = TypeVar("T")

# Deeper than any real request (tool schemas nest a few levels); bounded so that no recursive
# code downstream (serializers, schema walks, encoders) can meet a RecursionError.
MAX_JSON_DEPTH = 64
# Bodies above this are decoded and validated in a worker thread: the event loop keeps serving
# other requests and streams meanwhile (small ones are faster inline than a thread hop).
OFF_LOOP_BYTES = 256 * 1024


class ClientDisconnected(Exception):
    """The client went away before its request body was complete."""


class RequestLifecycle:
    def __init__(self, *, scope: dict[str, Any], receive: Receive, request_id: str) -> None:
        self.scope = scope
        self.request_id = request_id
        self.key: AuthenticatedKey | None = None
        self.meter: UsageMeter | None = None
        self.body_json: Any = None
        self.body_size = 0
        self._content_type = ""
        self._receive = receive
        self._admissions: list[Admission] = []

    # --- steps 1-3: before the view ---------------------------------------------------------

    async def begin(self, view_class: Any) -> ASGIRequest:
        """Key, cheap limits, then the body: the Django request the view will serve."""
        limit: int = settings.OARLOCK_MAX_REQUEST_BYTES
        declared = _declared_length(self.scope)
        if declared is not None and declared > limit:
            # Said by the headers: refused before anything else, at no cost.
            raise PayloadTooLarge(_too_large(limit))
        body_file = io.BytesIO()
        request = ASGIRequest(self.scope, body_file)
        request.lifecycle = self  # type: ignore[attr-defined]  # the view's handle on its owner
        self.key = await _authenticate(view_class, request)
        endpoint: str | None = getattr(view_class, "usage_endpoint", None)
        if endpoint is not None:
            self.meter = self._new_meter(endpoint, self.key)
            admission = await admit_call(key=self.key, before_store=self._journal_admission)
            self._admissions.append(admission)
            if admission.plan is None:
                # Nothing was taken in the store (no limits, or Redis down and failing open):
                # journalled now, so that a killed worker still leaves its interrupted record.
                self.meter.admitted(prompt_estimate=None, admission_plans=self._admission_plans())
        body = await _read_body(self._receive, limit)
        self.body_size = len(body)
        body_file.write(body)
        body_file.seek(0)
        self._content_type = request.META.get("CONTENT_TYPE", "")
        if body and _is_json(self._content_type):
            self.body_json = await self.compute(decode_json, body)
            self._note_request_shape()
        return request

    def request_json(self) -> Any:
        """The body as the views read it: its JSON, ``{}`` when there is none. A body of any
        other media type is refused, as DRF's parser negotiation refused it."""
        if not self.body_size:
            return {}
        if not _is_json(self._content_type):
            raise UnsupportedMediaType(self._content_type)
        return self.body_json

    async def compute(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``, in a worker thread when the body is large: for the work that
        grows with the body (decoding, validation, translation)."""
        if self.body_size > OFF_LOOP_BYTES:
            return await asyncio.to_thread(function, *args)
        return function(*args)

    # --- steps 5-6: once the view has translated the request -------------------------------

    async def open_upstream(self, *, model: str, params: ConversationParams, streamed: bool) -> UpstreamStream:
        meter = self._metered()
        meter.streamed = streamed
        meter.model = model
        admission = await reserve_tokens(
            key=authenticated_key(self),
            model=model,
            estimated_tokens=estimate_tokens(params),
            before_store=self._journal_admission,
        )
        self._admissions.append(admission)
        # Journalled before the upstream sees it: a worker killed from here on still leaves
        # what its usage record and its admissions' settlement need (usage_inflight_journal).
        # The prompt estimate only now: a request cut before its reservation never sent it.
        meter.admitted(prompt_estimate=estimate_prompt_tokens(params), admission_plans=self._admission_plans())
        return await UpstreamStream.open(model=model, params=params, meter=meter)

    # --- step 8 -----------------------------------------------------------------------------

    def refused(self, error: BaseException, *, status: int, upstream_failed: bool) -> None:
        """The request ended with an error answer (no stream): record it as such."""
        if self.meter is None or self.meter.finished:
            return
        # Refused by us before the upstream (validation, limits) is "rejected"; anything
        # that went wrong on the way to or inside Paddler "failed".
        outcome: Outcome = "failed" if upstream_failed else "rejected"
        self.meter.finish(outcome=outcome, http_status=status, error=error)

    @property
    def response_headers(self) -> dict[str, str]:
        """x-ratelimit-* of the limits that admitted this request (accounts/admission.py)."""
        headers: dict[str, str] = {}
        for admission in self._admissions:
            headers.update(admission.headers or {})
        return headers

    async def close(self, *, client_disconnected: bool, status: int) -> None:
        """Finish the meter if nothing did, release every admission. Never raises."""
        try:
            meter = self.meter
            if meter is not None and not meter.finished:
                outcome: Outcome = "client_disconnected" if client_disconnected else "failed"
                meter.finish(
                    outcome=outcome,
                    http_status=499 if client_disconnected else status,
                    error="ClientDisconnected" if client_disconnected else _unfinished_reason(),
                )
            # The record's total: with the prompt estimated when no Done came (never 0).
            used = meter.billed_tokens if meter is not None else 0
            # Both admission steps in one round trip.
            await release_admissions(self._admissions, used_tokens=used)
            if meter is not None:
                meter.admission_settled()
        except Exception:
            logger.exception("closing the request failed")

    # --- helpers ----------------------------------------------------------------------------

    def _new_meter(self, endpoint: str, key: AuthenticatedKey) -> UsageMeter:
        return UsageMeter(
            request_id=self.request_id,
            endpoint=endpoint,
            tenant_id=key.tenant_id,
            api_key_id=key.key_id,
            # Names go on the usage record: billing data outlives renamed and deleted keys.
            tenant_name=key.tenant_name,
            key_name=key.key_name,
            key_prefix=key.key_prefix,
            owner_id=key.owner_id,
            owner_name=key.owner_name,
        )

    def _journal_admission(self, plan: AdmissionPlan) -> None:
        """The plan of an admission step, journalled before the store takes anything: a worker
        killed during the Redis round trip leaves it for the next start to settle, instead of
        a slot taken until its lease ends (``accounts/admission.py``)."""
        plans = [*self._admission_plans(), plan.to_json()]
        self._metered().admitted(prompt_estimate=None, admission_plans=plans)

    def _admission_plans(self) -> list[dict[str, Any]]:
        return [admission.plan.to_json() for admission in self._admissions if admission.plan is not None]

    def _metered(self) -> UsageMeter:
        if self.meter is None:
            raise RuntimeError("open_upstream needs a view with a usage_endpoint")
        return self.meter

    def _note_request_shape(self) -> None:
        # A request refused later (validation) is still recorded with what it asked for.
        if self.meter is None or not isinstance(self.body_json, dict):
            return
        # Only a model name a record may hold (bounded, printable): a raw client string never
        # reaches the usage journal or a log line.
        model = self.body_json.get("model")
        self.meter.model = model if is_recordable_model(model) else ""
        self.meter.streamed = self.body_json.get("stream") is True


def lifecycle_of(request: Any) -> RequestLifecycle:
    """The owner of the request a view serves (set by ``RequestLifecycle.begin``)."""
    lifecycle: RequestLifecycle = request.lifecycle
    return lifecycle


def authenticated_key(lifecycle: RequestLifecycle) -> AuthenticatedKey:
    if lifecycle.key is None:
        raise RuntimeError("the request is not authenticated")
    return lifecycle.key


async def _authenticate(view_class: Any, request: ASGIRequest) -> AuthenticatedKey:
    """The first of the view's ``authentication_classes`` that recognises the request."""
    drf_request = Request(request)
    for authentication_class in view_class.authentication_classes:
        result = await authentication_class().authenticate(drf_request)
        if result is not None:
            principal, key = result
            request.user = principal  # DRF's Request reads it from here
            request.auth = key  # type: ignore[attr-defined]  # the Django request has no auth slot; DRF's reads it
            authenticated: AuthenticatedKey = key
            return authenticated
    raise RuntimeError(f"{view_class.__name__} has no authentication class that answers")


def decode_json(body: bytes) -> Any:
    """The body's JSON, or a 400: malformed, or nested deeper than ``MAX_JSON_DEPTH``."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as error:
        raise ParseError(f"JSON parse error - {error}") from None
    # Nesting never exceeds the number of opening brackets (counted in C, strings included):
    # most bodies are settled by that count, without walking the document.
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and _depth_exceeds(document, MAX_JSON_DEPTH):
        raise _too_deep()
    return document


def _depth_exceeds(document: Any, limit: int) -> bool:
    # Iterative: a recursive walk would itself overflow on the documents it is meant to catch.
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _too_deep() -> InvalidRequest:
    return InvalidRequest(
        f"The JSON body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep.",
        code="invalid_json",
    )


def _too_large(limit: int) -> str:
    return f"Request body too large: the limit is {limit} bytes."


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _is_json(content_type: str | None) -> bool:
    # What the views' parser accepts; anything else is refused by DRF's negotiation as before.
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/json"


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body; ``PayloadTooLarge`` as soon as it passes ``limit`` (no more is read)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(_too_large(limit))
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _unfinished_reason() -> str:
    # The server cancels every request still running when it shuts down (Daphne on SIGTERM):
    # say so on the usage record rather than leave an unexplained "Unfinished".
    task = asyncio.current_task()
    return "ServerShutdown" if task is not None and task.cancelling() else "Unfinished"
