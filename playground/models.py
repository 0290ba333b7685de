"""Which of a person's keys is the playground's, per tenant: its traffic is metered under it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import ApiKey, Tenant


class PlaygroundKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="playground")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_playground_key_per_person_and_tenant")
        ]

    def __str__(self) -> str:
        return f"playground key of {self.user} in {self.tenant}"
