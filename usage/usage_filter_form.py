"""The report filters as a form: the admin dashboard and the usage API parse them the same way."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from usage.usage_queries import GROUP_BY_CHOICES, GroupBy, UsageFilter

# The dashboard's default range when none is given: the last 30 days, today included.
DEFAULT_RANGE_DAYS = 30


class UsageFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tenant = forms.IntegerField(required=False, min_value=1)
    key = forms.IntegerField(required=False, min_value=1)
    model = forms.CharField(required=False, max_length=200)
    group_by = forms.ChoiceField(required=False, choices=[(choice, choice) for choice in GROUP_BY_CHOICES])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is not None and until is not None and since > until:
            raise forms.ValidationError("since must not be after until.")
        return cleaned

    def usage_filter(self, *, default_range: bool = False) -> UsageFilter:
        """The validated filter; ``default_range`` fills a missing range with the last 30 days."""
        data = self.cleaned_data
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        if default_range:
            until = until or timezone.localdate()
            since = since or until - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        return UsageFilter(
            since=since,
            until=until,
            tenant_id=data.get("tenant"),
            api_key_id=data.get("key"),
            model=data.get("model") or None,
        )

    def chosen_group_by(self, default: GroupBy) -> GroupBy:
        chosen = self.cleaned_data.get("group_by")
        for choice in GROUP_BY_CHOICES:
            if choice == chosen:
                return choice
        return default
