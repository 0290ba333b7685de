"""Usage pages: your own (every person), a tenant's (its admins and staff), and their CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Tenant
from portal.person_access import administered_tenant_or_404, member_tenants
from portal.usage_page import DEFAULT_RANGE, RANGE_CHOICES, range_filter, usage_page
from usage.models import UsageRecord
from usage.report_export import render_csv
from usage.usage_queries import GROUP_BY_CHOICES, GroupBy, UsageFilter, usage_rows


@login_required
def my_usage(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        UsageFilter(owner_id=request.user.pk),
        title="Your usage",
        budget_tenants=list(member_tenants(request.user)),
        csv_url="/usage/export.csv",
    )


@login_required
def tenant_usage(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = administered_tenant_or_404(request.user, tenant_id, model=UsageRecord)
    return _page(
        request,
        UsageFilter(tenant_id=tenant.pk),
        title=f"Usage of {tenant.name}",
        budget_tenants=[tenant],
        csv_url=f"/usage/tenants/{tenant.pk}/export.csv",
        tenant=tenant,
    )


@login_required
def my_usage_csv(request: HttpRequest) -> HttpResponse:
    return _csv(request, UsageFilter(owner_id=request.user.pk), "my-usage")


@login_required
def tenant_usage_csv(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = administered_tenant_or_404(request.user, tenant_id, model=UsageRecord)
    return _csv(request, UsageFilter(tenant_id=tenant.pk), f"tenant-{tenant.pk}-usage")


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_RANGE))
    except ValueError:
        return DEFAULT_RANGE
    return days if days in RANGE_CHOICES else DEFAULT_RANGE


def _page(
    request: HttpRequest,
    base: UsageFilter,
    *,
    title: str,
    budget_tenants: list[Tenant],
    csv_url: str,
    tenant: Tenant | None = None,
) -> HttpResponse:
    page = usage_page(base, days=_days(request), budget_tenants=budget_tenants)
    context = {
        "page": page,
        "title": title,
        "csv_url": csv_url,
        "tenant": tenant,
        "range_choices": RANGE_CHOICES,
        "group_choices": ("day", "key", "model"),
    }
    return render(request, "portal/usage.html", context)


def _csv(request: HttpRequest, base: UsageFilter, stem: str) -> HttpResponse:
    requested = request.GET.get("group_by", "day")
    # The portal shows one tenant's usage: never grouped by tenant.
    group_by: GroupBy = next(
        (choice for choice in GROUP_BY_CHOICES if choice == requested and choice != "tenant"), "day"
    )
    usage_filter = range_filter(base, _days(request))
    rows = usage_rows(usage_filter, group_by)
    response = HttpResponse(render_csv(rows, group_by), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{stem}-by-{group_by}-{stamp}.csv"'
    return response
