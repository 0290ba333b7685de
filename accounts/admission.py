"""Admission: may this key send this request now? Returns an ``Admission`` to release at the end.

This first version enforces the allowed models of the key and its tenant; rate limits,
concurrency and budgets plug in here (see the limits issue).
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.authenticated_key import AuthenticatedKey
from accounts.errors import ModelNotAllowed


@dataclass
class Admission:
    key: AuthenticatedKey
    model: str
    reserved_tokens: int = 0
    released: bool = False
    headers: dict[str, str] | None = None

    async def release(self, *, used_tokens: int | None = None) -> None:
        """Give back what was reserved, settling to ``used_tokens``. Idempotent."""
        self.released = True


async def admit_request(*, key: AuthenticatedKey, model: str, estimated_tokens: int) -> Admission:
    if not key.allows_model(model):
        raise ModelNotAllowed(model)
    return Admission(key=key, model=model, reserved_tokens=estimated_tokens)
