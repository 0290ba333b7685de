"""The portal home: who you are, your tenants, your keys at a glance, what to do next."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.key_listing import key_listing
from portal.model_access import models_for_tenants
from portal.person_access import member_tenants, portal_tenants
from usage.usage_queries import UsageFilter, usage_totals


@login_required
def home(request: HttpRequest) -> HttpResponse:
    listing = key_listing(request.user)
    month_start = timezone.localdate().replace(day=1)
    context = {
        "tenants": portal_tenants(request.user),
        "listing": listing,
        "live_keys": sum(1 for line in listing.mine if line.is_live),
        "month_totals": usage_totals(UsageFilter(since=month_start, owner_id=request.user.pk)),
        "model_count": len(models_for_tenants(member_tenants(request.user))),
        "base_url": request.build_absolute_uri("/v1"),
    }
    return render(request, "portal/home.html", context)
