"""What the fake Paddler answers to one inference request: a scripted stream or an HTTP failure."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from paddler_protocol.paddler_message import PaddlerMessage


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause the stream (cut short if the client goes away meanwhile)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class DropConnection:
    """Close the TCP connection mid-body, without a terminal line: the agent or balancer died."""


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line exactly as given (newline added): what no ``PaddlerMessage`` can encode."""

    body: bytes


Step: TypeAlias = PaddlerMessage | Sleep | DropConnection | RawLine


@dataclass(frozen=True, slots=True, init=False)
class Reply:
    """A 200 NDJSON stream: each message step becomes one line (and one HTTP chunk).

    ``request_id`` empty means a fresh nanoid-like id per request, as the balancer does.
    """

    steps: tuple[Step, ...]
    request_id: str
    generated_by: str | None

    def __init__(self, steps: Iterable[Step], request_id: str = "", generated_by: str | None = "fake-agent") -> None:
        object.__setattr__(self, "steps", tuple(steps))
        object.__setattr__(self, "request_id", request_id)
        object.__setattr__(self, "generated_by", generated_by)


@dataclass(frozen=True, slots=True)
class HttpFailure:
    """A non-200 answer before any streaming, with a plain-text body as actix writes it."""

    status: int
    text: str = ""


ScriptedReply: TypeAlias = Reply | HttpFailure

_NANOID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def new_paddler_request_id() -> str:
    """21 characters from nanoid's alphabet, like the ids Paddler's balancer assigns."""
    return "".join(secrets.choice(_NANOID_ALPHABET) for _ in range(21))
