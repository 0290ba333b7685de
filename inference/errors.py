"""Facts about reaching an upstream (Paddler) that the API layer turns into HTTP errors.

What Paddler itself says inside a stream is ``paddler_protocol.errors``.
"""

from __future__ import annotations

from foundation.errors import OarlockError
from paddler_protocol.errors import UpstreamError


class ModelNotFound(OarlockError):
    """No upstream is registered under the requested model name."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(
            f"The model `{model}` does not exist or you do not have access to it.", param="model"
        )


class UpstreamUnavailable(UpstreamError):
    """Paddler could not be reached: connection refused, reset, DNS, or a timeout."""

    default_message = "The inference upstream is unavailable."


class UpstreamTimeout(UpstreamUnavailable):
    """Paddler accepted the connection but did not answer in time."""

    default_message = "The inference upstream timed out."


class UpstreamRejected(UpstreamError):
    """Paddler answered the HTTP request itself with a non-200 status (plain-text body)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"Upstream rejected the request ({status}): {body}".strip())
