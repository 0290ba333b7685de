"""The first half of every audited "update" service: refuse fields the service does not let
callers edit, remember the audited values, apply the changes and validate the result. The
caller saves and records the change (with its own checks and cache invalidation in between)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from accounts.audit_log import Snapshot, snapshot


def apply_edits(
    instance: models.Model, changes: Mapping[str, Any], *, editable: Iterable[str], audited: Iterable[str]
) -> Snapshot:
    """Set ``changes`` on ``instance`` and ``full_clean`` it; returns the audited values before."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    before = snapshot(instance, audited)
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    return before
