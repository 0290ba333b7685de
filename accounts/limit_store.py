"""Where limit counters live, and the values admission exchanges with it.

Admission turns a key's limits into an ``AdmissionPlan``; a ``LimitStore`` checks every limit of
the plan and, only if all pass, takes them all — one atomic step (one Redis script, or one
uninterrupted piece of code in process). ``release`` gives back the request slot and settles the
token reservations to real usage, also atomically; ``release_many`` does it for every admission
step of a request in one round trip.

Every slot and reservation carries a lease: a request whose release never comes (a worker
killed mid-request) stops counting against concurrency and gives its budget reservation back
once the lease has ended — at the latest when it would make an admission fail. Slots are leased
briefly and renewed while their request runs (``accounts/lease_renewal.py``), so a lost one
counts for at most ``OARLOCK_SLOT_LEASE_SECONDS``; reservations for
``OARLOCK_ADMISSION_LEASE_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from accounts.rate_window import WindowState

ScopeKind = Literal["key", "tenant"]
LimitKind = Literal["requests", "tokens", "concurrency", "budget"]


class LimitStoreUnavailable(Exception):
    """The shared store (Redis) did not answer; admission decides whether to fail open."""


@dataclass(frozen=True, slots=True)
class ScopePlan:
    """The limits of one scope (the key, or its tenant) that apply to a request; None = none."""

    scope: ScopeKind
    scope_id: int
    rpm: int | None = None
    tpm: int | None = None
    max_concurrent: int | None = None
    token_budget: int | None = None
    # BudgetWindow.label of the period the request is admitted in, and how long its counter is
    # kept (the rest of the period plus a day, so late releases still find it).
    budget_label: str = ""
    budget_ttl_seconds: int = 0

    @property
    def tracks_leases(self) -> bool:
        return self.max_concurrent is not None or self.token_budget is not None

    def to_json(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict deep-copies every value, and a request journals its
        # plans up to five times (5 % of the event loop's time per request, cProfile).
        return {
            "scope": self.scope,
            "scope_id": self.scope_id,
            "rpm": self.rpm,
            "tpm": self.tpm,
            "max_concurrent": self.max_concurrent,
            "token_budget": self.token_budget,
            "budget_label": self.budget_label,
            "budget_ttl_seconds": self.budget_ttl_seconds,
        }


@dataclass(frozen=True, slots=True)
class AdmissionPlan:
    admission_id: str
    tenant_id: int
    scopes: tuple[ScopePlan, ...]
    # The estimate reserved against token limits and budgets until the request settles.
    tokens: int
    lease_seconds: int

    def to_json(self) -> dict[str, Any]:
        """For the usage in-flight journal: a dead worker's admission is settled later."""
        return {
            "admission_id": self.admission_id,
            "tenant_id": self.tenant_id,
            "tokens": self.tokens,
            "lease_seconds": self.lease_seconds,
            "scopes": [scope.to_json() for scope in self.scopes],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AdmissionPlan:
        scopes = tuple(ScopePlan(**scope) for scope in value["scopes"])
        return cls(
            admission_id=value["admission_id"],
            tenant_id=value["tenant_id"],
            scopes=scopes,
            tokens=value["tokens"],
            lease_seconds=value["lease_seconds"],
        )

    @property
    def holds_slots(self) -> bool:
        """A request slot (``max_concurrent``) is leased: renewed while the request runs."""
        return any(scope.max_concurrent is not None for scope in self.scopes)

    @property
    def needs_release(self) -> bool:
        """False when only requests per minute apply: nothing to give back or settle."""
        return any(scope.tpm is not None or scope.tracks_leases for scope in self.scopes)


@dataclass(frozen=True, slots=True)
class Denial:
    kind: LimitKind
    scope: ScopeKind
    limit: int
    retry_after_ms: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """The store's decision. When admitted, the tightest per-minute windows after taking."""

    denial: Denial | None = None
    requests: WindowState | None = None
    tokens: WindowState | None = None


class LimitStore(Protocol):
    async def admit(self, plan: AdmissionPlan) -> Verdict: ...

    async def release(self, plan: AdmissionPlan, *, used_tokens: int, only_if_reserved: bool = False) -> None:
        """Settle ``plan`` to ``used_tokens``. ``only_if_reserved``: leave a budget alone whose
        reservation is gone (already settled, or given back by an expired lease) — for a
        settlement that may repeat one already made (``accounts/abandoned_admission.py``)."""
        ...

    async def release_many(
        self, releases: Sequence[tuple[AdmissionPlan, int]], *, only_if_reserved: bool = False
    ) -> None:
        """``release`` each (plan, used tokens) pair, all in one round trip: the admission steps
        of one request. Each release is atomic by itself, not the batch: when this raises, any
        of them may have run (``only_if_reserved`` makes the repeat safe)."""
        ...

    async def renew(self, plans: Sequence[AdmissionPlan]) -> None:
        """Push the request slots of ``plans`` (requests still running) to a full lease again;
        a slot no longer held is left alone (``accounts/lease_renewal.py``)."""
        ...

    async def budget_used(self, *, tenant_id: int, scope: ScopeKind, scope_id: int, label: str) -> int:
        """Tokens spent plus reserved in that budget period (for reports and tests)."""
        ...


def counter_key(prefix: str, tenant_id: int, scope: ScopeKind, scope_id: int, name: str) -> str:
    """One naming scheme for both stores. The ``{t…}`` hash tag keeps every counter of a tenant
    in one Redis Cluster slot, which a multi-key script requires."""
    owner = "t" if scope == "tenant" else f"k{scope_id}"
    return f"{prefix}:{{t{tenant_id}}}:{owner}:{name}"


def tighter(current: WindowState | None, candidate: WindowState) -> WindowState:
    """Of two limits on the same thing, the one a client runs into first."""
    if current is None or candidate.remaining < current.remaining:
        return candidate
    if candidate.remaining == current.remaining and candidate.reset_ms > current.reset_ms:
        return candidate
    return current
