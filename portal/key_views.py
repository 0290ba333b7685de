"""Self-service keys: list, create (secret shown once), revoke, rotate with a grace period.

Every write goes through ``accounts.api_key_lifecycle`` (audit log, cache invalidation). Every
key is looked up through ``person_access``, so another person's key answers 404.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.api_key_lifecycle import CreatedApiKey, create_api_key, revoke_api_key, rotate_api_key
from portal.key_form import CreateKeyForm, RotateKeyForm
from portal.key_listing import key_listing
from portal.model_access import models_for_tenants
from portal.person_access import editable_tenant_ids, manageable_key_or_404, member_tenants

# The page that shows a new secret answers the POST itself (the secret is never stored, not
# even in the session, so it cannot survive a redirect). A reload would post the form again:
# each form carries a one-time token, and a second post of it creates nothing.
SUBMITTED_TOKENS = "portal_submitted_form_tokens"


@login_required
def keys_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and not _first_submission(request):
        messages.info(request, "That form was already sent: the key was created once, see below.")
        return redirect("portal:keys")
    form = _create_form(request, data=request.POST if request.method == "POST" else None)
    created: CreatedApiKey | None = None
    status = 200
    if request.method == "POST" and not form.is_valid():
        status = 400
    elif request.method == "POST":
        created = create_api_key(
            tenant=form.cleaned_data["tenant"],
            name=form.cleaned_data["name"],
            expires_at=form.expires_at(),
            owner=request.user,
            actor=request.user,
            **form.key_fields(),
        )
        form = _create_form(request)
    return _render_keys(request, form=form, created=created, status=status)


@login_required
@require_POST
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = manageable_key_or_404(request.user, key_id)
    revoke_api_key(api_key=key, actor=request.user)
    messages.success(request, f"Revoked “{key.name}” ({key.prefix}…). It stops working within a second.")
    return redirect("portal:keys")


@login_required
@require_POST
def rotate_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = manageable_key_or_404(request.user, key_id)
    if not _first_submission(request):
        messages.info(request, "That form was already sent: the key was rotated once.")
        return redirect("portal:keys")
    form = RotateKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how long the old secret keeps working.")
        return redirect("portal:keys")
    try:
        rotated = rotate_api_key(
            api_key=key, grace=timedelta(hours=form.cleaned_data["grace_hours"]), actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:keys")
    return _render_keys(request, form=_create_form(request), created=rotated, rotated=True)


def _first_submission(request: HttpRequest) -> bool:
    """Whether this POST's form token is new (and remember it: the last 50 per session)."""
    token = request.POST.get("form_token", "")
    if not token:
        return True
    submitted = request.session.get(SUBMITTED_TOKENS, [])
    if token in submitted:
        return False
    request.session[SUBMITTED_TOKENS] = [*submitted, token][-50:]
    return True


def _create_form(request: HttpRequest, data: object = None) -> CreateKeyForm:
    tenants = member_tenants(request.user).order_by("name")
    return CreateKeyForm(data, tenants=tenants, models=models_for_tenants(tenants))


def _render_keys(
    request: HttpRequest,
    *,
    form: CreateKeyForm,
    created: CreatedApiKey | None,
    rotated: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "created": created,
        "rotated": rotated,
        "listing": key_listing(request.user),
        "can_create": form.fields["tenant"].queryset.exists(),  # type: ignore[attr-defined]  # a ModelChoiceField, typed as a Field
        "rotate_form": RotateKeyForm(),
        "editable_tenant_ids": editable_tenant_ids(request.user),
        "base_url": request.build_absolute_uri("/v1"),
        "form_token": secrets.token_urlsafe(16),
    }
    response = render(request, "portal/keys.html", context, status=status)
    if created is not None:
        # The secret is in this page only: never cached, never restored from history.
        response["Cache-Control"] = "no-store"
    return response
