"""An edited upstream takes effect on the next request of this process."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from inference.models import Upstream
from inference.upstream_registry import upstream_registry


@receiver([post_save, post_delete], sender=Upstream)
def upstream_changed(sender: type[Upstream], instance: Upstream, **kwargs: Any) -> None:
    upstream_registry.invalidate()
