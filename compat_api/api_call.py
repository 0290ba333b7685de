"""What Oarlock knows about the /v1 request being served, for the code deeper in the path."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from accounts.admission import Admission
from accounts.authenticated_key import AuthenticatedKey
from usage.usage_meter import UsageMeter


@dataclass
class ApiCall:
    request_id: str
    key: AuthenticatedKey
    meter: UsageMeter
    admission: Admission | None = None


current_api_call: ContextVar[ApiCall | None] = ContextVar("current_api_call", default=None)
