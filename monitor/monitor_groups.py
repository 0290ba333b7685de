"""Channel layer group names of the live monitor, one place for all of them."""

from __future__ import annotations

# Every request; joined by staff only.
ALL_REQUESTS = "monitor.all"
# Paddler cluster snapshots (agents, slots, buffered requests); staff and tenant admins.
CLUSTER = "monitor.cluster"
# Every worker process listens here for cancellations of the requests it runs.
CONTROL = "monitor.control"


def tenant_group(tenant_id: int) -> str:
    return f"monitor.tenant.{tenant_id}"


def person_group(user_id: int) -> str:
    return f"monitor.person.{user_id}"


def groups_of_request(*, tenant_id: int, owner_id: int | None) -> tuple[str, ...]:
    """Where one request's progress is published: each viewer joins only what they may see."""
    if owner_id is None:
        return (ALL_REQUESTS, tenant_group(tenant_id))
    return (ALL_REQUESTS, tenant_group(tenant_id), person_group(owner_id))
