"""Failures Paddler reports or causes in its protocol, as exceptions (protocol reference 1.5-1.7).

``UpstreamError`` is the base of everything that went wrong on the way to or inside Paddler;
``compat_api.error_envelope`` maps each to an HTTP status.
"""

from __future__ import annotations

from foundation.errors import OarlockError


class UpstreamError(OarlockError):
    """Base for everything that went wrong on the way to or inside Paddler."""


class UpstreamProtocolError(UpstreamError):
    """Paddler sent something that is not the NDJSON protocol we know, or stopped mid-stream."""

    default_message = "The inference upstream broke the protocol."


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


class RequestRejected(OarlockError):
    """Refused before the stream starts: an HTTP status with a plain-text body, as actix answers
    extractor and validation failures (reference 1.1)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(body)
