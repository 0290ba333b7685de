"""Rows the OpenAI surface keeps: responses stored for ``GET /v1/responses/{id}`` and
``previous_response_id`` (wire-format reference 7)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class StoredResponseStatus(models.TextChoices):
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    FAILED = "failed"


class StoredResponse(models.Model):
    """One response created with ``store`` true, readable only by its tenant.

    ``response`` is the response object exactly as the client received it; ``input_items`` the
    whole conversation that led to it in OpenAI's item shape, each with an id — including items
    inherited through ``previous_response_id``, so a later turn or deleting an earlier response
    never needs to walk a chain.
    """

    id = models.CharField(primary_key=True, max_length=64)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="stored_responses")
    model = models.CharField(max_length=256)
    status = models.CharField(max_length=16, choices=StoredResponseStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    response = models.JSONField()
    input_items = models.JSONField(default=list)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="stored_response_tenant_time"),
            # The purge command deletes by age across tenants.
            models.Index(fields=["created_at"], name="stored_response_created_at"),
        ]

    def __str__(self) -> str:
        return self.id
