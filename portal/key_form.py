"""The self-service "create a key" form: name, tenant, expiry, models and limits.

Limits may not exceed the tenant's (checked by ``accounts.limit_rules``, the same rule as the
admin and the management API). Every key expires: a year at most, 90 days by default.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from accounts.limit_rules import key_limit_errors
from accounts.models import Tenant

DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
GRACE_CHOICES = [("0", "No grace: the old secret stops now"), ("1", "1 hour"), ("24", "24 hours"), ("168", "7 days")]


class CreateKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120, help_text="Say where the key is used, e.g. “laptop” or “CI”.")
    tenant = forms.ModelChoiceField(label="Tenant", queryset=Tenant.objects.none(), empty_label=None)
    expires_on = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at the start of this day (a year at most).",
    )
    allowed_models = forms.MultipleChoiceField(
        label="Models",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every model your tenant may use.",
    )
    rpm = forms.IntegerField(label="Requests per minute", required=False, min_value=1)
    tpm = forms.IntegerField(label="Tokens per minute", required=False, min_value=1)
    token_budget = forms.IntegerField(label="Tokens per month", required=False, min_value=1)

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], models: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants  # type: ignore[attr-defined]  # a ModelChoiceField, typed as a Field
        self.fields["allowed_models"].choices = [(model, model) for model in models]  # type: ignore[attr-defined]  # a choice field, typed as a Field
        today = timezone.localdate()
        self.fields["expires_on"].initial = today + DEFAULT_LIFETIME
        self.fields["expires_on"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(), max=(today + MAX_LIFETIME).isoformat()
        )
        if tenants.count() == 1:
            self.fields["tenant"].initial = tenants.first()

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if day <= today:
            raise forms.ValidationError("Pick a day after today.")
        if day > today + MAX_LIFETIME:
            raise forms.ValidationError("A key lives a year at most.")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant = cleaned.get("tenant")
        if tenant is not None:
            for field, message in key_limit_errors(tenant, self.key_fields()).items():
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    def key_fields(self) -> dict[str, Any]:
        """The limit fields for ``create_api_key`` (an empty limit: the tenant's applies)."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            name: data.get(name) for name in ("rpm", "tpm", "token_budget") if data.get(name) is not None
        }
        if "token_budget" in fields:
            fields["budget_period"] = "month"
        fields["allowed_models"] = list(data.get("allowed_models") or [])
        return fields

    def expires_at(self) -> datetime:
        return datetime.combine(self.cleaned_data["expires_on"], time.min, tzinfo=timezone.get_current_timezone())


class RotateKeyForm(forms.Form):
    grace_hours = forms.TypedChoiceField(
        label="Old secret keeps working for", choices=GRACE_CHOICES, coerce=int, initial="24"
    )
