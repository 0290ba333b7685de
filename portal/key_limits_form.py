"""The "edit limits" form of an existing key: expiry, models and limits, never above the tenant's.

The fields are the create form's (same labels, same checks), plus requests in flight. An empty
limit means "the tenant's limit applies". ``accounts.api_key_lifecycle.update_api_key`` checks
the tenant's limits again when it saves.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accounts.limit_rules import key_limit_errors
from accounts.models import ApiKey
from portal.key_form import DEFAULT_LIFETIME, MAX_LIFETIME, CreateKeyForm

LIMITS = ("rpm", "tpm", "max_concurrent", "token_budget")


class EditKeyLimitsForm(forms.Form):
    expires_on = CreateKeyForm.base_fields["expires_on"]
    allowed_models = CreateKeyForm.base_fields["allowed_models"]
    rpm = CreateKeyForm.base_fields["rpm"]
    tpm = CreateKeyForm.base_fields["tpm"]
    max_concurrent = forms.IntegerField(label="Requests in flight", required=False, min_value=1)
    token_budget = CreateKeyForm.base_fields["token_budget"]
    clean_expires_on = CreateKeyForm.clean_expires_on

    def __init__(self, *args: Any, api_key: ApiKey, models: list[str], **kwargs: Any) -> None:
        initial = {name: getattr(api_key, name) for name in LIMITS}
        initial["allowed_models"] = list(api_key.allowed_models or [])
        # A key made without an expiry (admin, command) is offered the create form's default.
        expires_at = api_key.expires_at
        initial["expires_on"] = (
            timezone.localdate(expires_at) if expires_at else timezone.localdate() + DEFAULT_LIFETIME
        )
        super().__init__(*args, **kwargs)
        self.initial = {**initial, **self.initial}
        self.api_key = api_key
        self.fields["allowed_models"].choices = [(model, model) for model in models]  # type: ignore[attr-defined]  # a choice field, typed as a Field
        today = timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(), max=(today + MAX_LIFETIME).isoformat()
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            for field, message in key_limit_errors(self.api_key.tenant, self.changes()).items():
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    def changes(self) -> dict[str, Any]:
        """The ``update_api_key`` changes: every limit (empty: the tenant's applies) and the expiry."""
        data = self.cleaned_data
        changes: dict[str, Any] = {name: data.get(name) for name in LIMITS}
        if changes["token_budget"] is not None:
            changes["budget_period"] = "month"
        changes["allowed_models"] = list(data.get("allowed_models") or [])
        changes["expires_at"] = datetime.combine(data["expires_on"], time.min, tzinfo=timezone.get_current_timezone())
        return changes
