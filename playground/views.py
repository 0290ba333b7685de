"""The playground page and the short-lived token its script uses for /v1 (thin views)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.session_bound_token import TOKEN_SECONDS, issue_session_token
from playground.playground_key import playground_key_for
from playground.playground_tenants import chosen_tenant, tenants_of


@login_required
def playground_page(request: HttpRequest) -> HttpResponse:
    tenants = tenants_of(request.user)
    tenant = chosen_tenant(tenants, request.GET.get("tenant"))
    return render(
        request,
        "playground/playground.html",
        {
            "tenants": tenants,
            "tenant": tenant,
            "api_base": request.build_absolute_uri("/v1"),
        },
    )


@require_POST
@login_required
def playground_token(request: HttpRequest) -> JsonResponse:
    """A token for the person's playground key in the chosen tenant, bound to this session."""
    tenant = chosen_tenant(tenants_of(request.user), request.POST.get("tenant"))
    if tenant is None:
        return JsonResponse({"error": "You are not a member of any tenant."}, status=404)
    if not request.session.session_key:
        request.session.save()
    api_key = playground_key_for(user=request.user, tenant=tenant)
    token = issue_session_token(secret_hash=api_key.secret_hash, session_key=request.session.session_key or "")
    return JsonResponse({"token": token, "expires_in": TOKEN_SECONDS, "key_prefix": api_key.prefix})
