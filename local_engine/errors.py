"""Facts the local engine turns into Paddler's answers (protocol reference 1.1, 1.5, 1.6)."""

from __future__ import annotations

from foundation.errors import OarlockError
from paddler_protocol.paddler_message import ErrorEnvelope, GenerationError, GenerationErrorKind


class GenerationFailure(OarlockError):
    """A terminal ``GeneratedTokenResult`` error variant; the stream's last line."""

    def __init__(self, kind: GenerationErrorKind, message: str) -> None:
        self.kind: GenerationErrorKind = kind
        super().__init__(message)

    def as_message(self) -> GenerationError:
        return GenerationError(self.kind, self.message)


class BufferedRequestsOverflow(OarlockError):
    """No free slot and the buffer already holds the maximum number of waiting requests."""

    default_message = "Buffered requests overflow"

    def as_message(self) -> ErrorEnvelope:
        return ErrorEnvelope(503, self.message)


class SlotWaitTimedOut(OarlockError):
    """A buffered request waited longer than the buffered-request timeout."""

    default_message = "Waiting for available slot timed out"

    def as_message(self) -> ErrorEnvelope:
        return ErrorEnvelope(504, self.message)
