"""Named upstreams: model name → the Paddler cluster that serves it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Upstream(models.Model):
    """One Paddler balancer serving one model (a Paddler cluster runs exactly one model)."""

    model_name = models.CharField(max_length=200, unique=True, help_text="The `model` clients send.")
    aliases = models.JSONField(default=list, blank=True, help_text="Other names for the same model.")
    inference_url = models.URLField(help_text="Paddler's inference service, e.g. http://host:8061")
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model_name"]

    def __str__(self) -> str:
        return f"{self.model_name} → {self.inference_url}"
