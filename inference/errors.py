"""Facts about the upstream (Paddler) that the API layer turns into HTTP errors."""

from __future__ import annotations

from oarlock.errors import OarlockError


class ModelNotFound(OarlockError):
    """No upstream is registered under the requested model name."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(
            f"The model `{model}` does not exist or you do not have access to it.", param="model"
        )


class UpstreamError(OarlockError):
    """Base for everything that went wrong on the way to or inside Paddler."""


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


class UpstreamTimeout(UpstreamUnavailable):
    """Paddler accepted the connection but did not answer in time."""

    default_message = "The inference upstream timed out."


class UpstreamRejected(UpstreamError):
    """Paddler answered the HTTP request itself with a non-200 status (plain-text body)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"Upstream rejected the request ({status}): {body}".strip())


class UpstreamProtocolError(UpstreamError):
    """Paddler sent something that is not the NDJSON protocol we know, or stopped mid-stream."""

    default_message = "The inference upstream broke the protocol."


class LocalEngineStopped(UpstreamProtocolError):
    """The local engine's process ended while it was answering this request."""

    default_message = (
        "The local engine stopped while generating this answer; `make serve` restarts it. "
        "See its console for the reason."
    )


class UpstreamErrorReply(UpstreamError):
    """Paddler answered inside the stream with an ``Error`` envelope (reference 1.6).

    ``code`` is the JSON-RPC-style number (503 overflow, 504 slot wait or item timeout, 502 agent
    lost, ...); the HTTP status of that response was still 200.
    """

    def __init__(self, code: int, description: str) -> None:
        self.code = code
        self.description = description
        super().__init__(description)


class GenerationFailed(UpstreamError):
    """Paddler ended the stream with a terminal error variant such as ``ChatTemplateError``."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class ToolCallFailed(UpstreamError):
    """The agent could not parse or validate a tool call (a non-terminal variant upstream).

    Oarlock ends the request on it, so a client never sees a failure followed by more output.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
