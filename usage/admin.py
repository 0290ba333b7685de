"""Admin: the usage dashboard (rollups), its CSV export, and the raw records, read-only.

The dashboard replaces the rollup model's changelist (``get_urls``), so it appears in the
admin index as "Usage dashboard" and inherits the admin's staff login and permissions.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from accounts.read_only_admin import ReadOnlyAdmin
from usage.capped_count_paginator import CappedCountPaginator
from usage.models import UsageRecord, UsageRollup
from usage.report_export import render_csv
from usage.usage_dashboard import build_dashboard, default_group_by
from usage.usage_filter_form import UsageFilterForm
from usage.usage_queries import usage_rows


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    """Usage is billing evidence: the admin shows it and never edits it."""

    list_display = (
        "started_at",
        "request_id",
        "tenant_name",
        "key_prefix",
        "model",
        "endpoint",
        "outcome",
        "http_status",
        "prompt_tokens",
        "prompt_tokens_known",
        "completion_tokens",
        "usage_source",
    )
    list_filter = ("outcome", "endpoint", "usage_source", "streamed", "prompt_tokens_known")
    search_fields = ("request_id",)
    search_help_text = "Oarlock's request id (req_…, the x-request-id header), exact."
    # Counting millions of rows on every page is the slow part of a changelist.
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[UsageRecord], search_term: str
    ) -> tuple[QuerySet[UsageRecord], bool]:
        # An exact, case-sensitive match uses the unique index; the admin's own "=field"
        # search is case-insensitive (UPPER(…) = UPPER(…)) and scans the whole table.
        term = search_term.strip()
        return (queryset.filter(request_id=term) if term else queryset), False


@admin.register(UsageRollup)
class UsageDashboardAdmin(ReadOnlyAdmin):
    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path("", self.admin_site.admin_view(self.dashboard_view), name=f"{name}_changelist"),
            path("export.csv", self.admin_site.admin_view(self.export_view), name=f"{name}_export"),
        ]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        form = self._filter_form(request)
        usage_filter = form.usage_filter(default_range=True)
        group_by = form.chosen_group_by(default_group_by(usage_filter))
        before = request.GET.get("before", "")
        dashboard = build_dashboard(
            usage_filter, group_by=group_by, before_id=int(before) if before.isdigit() else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Usage dashboard",
            "form": form,
            "dashboard": dashboard,
            "query": _query(request.GET, drop=("before", "tenant", "key", "group_by")),
            "filter_query": _query(request.GET, drop=("before", "group_by")),
        }
        return TemplateResponse(request, "admin/usage/dashboard.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The dashboard's table (same filters and grouping) as CSV."""
        form = self._filter_form(request)
        usage_filter = form.usage_filter(default_range=True)
        group_by = form.chosen_group_by(default_group_by(usage_filter))
        body = render_csv(usage_rows(usage_filter, group_by), group_by)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        filename = f"usage-by-{group_by}-{usage_filter.since}-{usage_filter.until}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _filter_form(self, request: HttpRequest) -> UsageFilterForm:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = UsageFilterForm(request.GET)
        if not form.is_valid():
            # A bad filter falls back to the default view rather than an error page; the form
            # shows what was wrong.
            rejected = set(form.errors) | ({"since", "until"} if "__all__" in form.errors else set())
            form.cleaned_data = {name: value for name, value in form.cleaned_data.items() if name not in rejected}
        return form


def _query(params: QueryDict, *, drop: tuple[str, ...]) -> str:
    """The current query string without ``drop`` (the template appends its own values)."""
    kept = params.copy()
    for name in drop:
        kept.pop(name, None)
    return kept.urlencode()
