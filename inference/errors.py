"""Facts about reaching an upstream (Paddler) that the API layer turns into HTTP errors.

What Paddler itself says inside a stream is ``paddler_protocol.errors``.
"""

from __future__ import annotations

from foundation.errors import OarlockError
from paddler_protocol.errors import UpstreamError, UpstreamProtocolError


class ModelNotFound(OarlockError):
    """No upstream is registered under the requested model name."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"The model `{model}` does not exist or you do not have access to it.", param="model")


class UpstreamUnavailable(UpstreamError):
    """Paddler could not be reached: connection refused, reset, DNS, or a timeout."""

    default_message = "The inference upstream is unavailable."


class LocalEngineUnavailable(UpstreamUnavailable):
    """The local engine that ``make serve`` supervises is not accepting connections.

    It crashed or is loading again after a restart: unlike an unreachable Paddler (a fault of
    the deployment, 502) this is expected to pass within seconds, so the client is told to retry.
    """

    default_message = (
        "The local engine is not running: it stopped and is being restarted. "
        "Retry in a few seconds; if it keeps failing, see the `make serve` console."
    )


class LocalEngineStopped(UpstreamProtocolError):
    """The local engine's process ended while it was answering this request."""

    default_message = (
        "The local engine stopped while generating this answer; `make serve` restarts it. "
        "See its console for the reason."
    )


class UpstreamTimeout(UpstreamUnavailable):
    """Paddler accepted the connection but did not answer in time."""

    default_message = "The inference upstream timed out."


class UpstreamRejected(UpstreamError):
    """Paddler answered the HTTP request itself with a non-200 status (plain-text body)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"Upstream rejected the request ({status}): {body}".strip())
