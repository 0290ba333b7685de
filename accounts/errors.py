"""Facts about who is calling and what they may do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from foundation.errors import OarlockError


class ApiKeyError(OarlockError):
    """Base of the four ways a bearer key fails; all are a 401 ``invalid_api_key``."""


class MissingApiKey(ApiKeyError):
    default_message = (
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    )


class InvalidApiKey(ApiKeyError):
    # Never echo the presented secret, not even masked: it may be a real key of another system.
    default_message = "Incorrect API key provided. Check the key, or ask your administrator for one."


class RevokedApiKey(ApiKeyError):
    default_message = "This API key has been revoked."


class ExpiredApiKey(ApiKeyError):
    default_message = "This API key has expired."


class ModelNotAllowed(OarlockError):
    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"This API key is not allowed to use the model `{model}`.", param="model")


class RateLimited(OarlockError):
    """A request or token rate limit, or a concurrency cap, was hit."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        limit_kind: Literal["requests", "tokens"] = "requests",
        headers: Mapping[str, str] | None = None,
        limit: Literal["requests", "tokens", "concurrency"] | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit_kind = limit_kind
        # Which limit refused (a concurrency cap answers with limit_kind "requests"): for metrics.
        self.limit = limit or limit_kind
        # retry-after-ms and the x-ratelimit-* state of the limit that was hit.
        self.headers = dict(headers or {})


class BudgetExhausted(OarlockError):
    """The token budget of the period is spent; retrying before it resets will not help."""


class AdmissionUnavailable(OarlockError):
    """The shared limit store (Redis) is unreachable and the limit fails closed."""
