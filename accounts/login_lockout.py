"""Login throttling (django-axes): a username is locked after a few failures, an address after more.

Axes counts failed ``authenticate()`` calls — the admin's and the portal's sign-in alike — per
username and per client address and compares the larger count with one limit
(``AXES_FAILURE_LIMIT``). One limit does not fit both: a person mistyping is a handful of
failures, while one address (an office behind NAT) legitimately carries many people. So the
address count is scaled into the username limit's units: the address is locked after
``OARLOCK_LOGIN_IP_FAILURE_LIMIT`` failures, the username after ``AXES_FAILURE_LIMIT``.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _failures(attempts: QuerySet[Any]) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


class LoginLockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]  # django-axes has no type hints
    """Axes' database handler (attempts and lockouts visible in the admin), two limits."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        # One queryset per AXES_LOCKOUT_PARAMETERS entry, in order: username, then ip_address.
        by_username, by_address = (_failures(attempts) for attempts in self.get_user_attempts(request, credentials))
        username_limit: int = settings.AXES_FAILURE_LIMIT
        address_limit: int = settings.OARLOCK_LOGIN_IP_FAILURE_LIMIT
        # floor(n * U / A) reaches U exactly when n reaches A.
        return max(by_username, by_address * username_limit // address_limit)


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in came from. Behind ``OARLOCK_TRUSTED_PROXY_COUNT`` proxies it is the
    entry that many places from the right of ``X-Forwarded-For`` (each proxy appends its peer;
    anything further left was written by the client and is ignored). Without proxies, or when the
    header is shorter than that, it is the connection's own address."""
    proxies: int = settings.OARLOCK_TRUSTED_PROXY_COUNT
    header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [hop.strip() for hop in header.split(",") if hop.strip()]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies][:64]
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote


def client_label(username: str | None, ip_address: str, user_agent: str, path_info: Any, request: Any) -> str:
    """How axes names a client in its log lines: repr() escapes control characters, so a
    username typed by a client never starts a log line of its own; bounded in length."""
    name = None if username is None else username[:150]
    return f"username={name!r} ip={ip_address!r} path={str(path_info)[:200]!r}"


def lockout_response(request: HttpRequest, original_response: Any, credentials: Any) -> HttpResponse:
    """A page that says what happened and for how long (429), instead of the sign-in form."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
