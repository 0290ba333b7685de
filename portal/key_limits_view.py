"""A tenant admin (or staff allowed to change keys) edits the limits of one of the tenant's keys.

The key is looked up through ``person_access.editable_key_or_404``: anyone else's key answers 404.
The write goes through ``accounts.api_key_lifecycle.update_api_key`` (audit log, cache dropped).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.api_key_lifecycle import update_api_key
from portal.key_limits_form import EditKeyLimitsForm
from portal.model_access import models_for_tenants
from portal.person_access import editable_key_or_404


@login_required
def edit_key_limits(request: HttpRequest, key_id: int) -> HttpResponse:
    key = editable_key_or_404(request.user, key_id)
    data = request.POST if request.method == "POST" else None
    form = EditKeyLimitsForm(data, api_key=key, models=models_for_tenants([key.tenant]))
    if request.method == "POST" and form.is_valid():
        try:
            update_api_key(api_key=key, changes=form.changes(), actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved the limits of “{key.name}” ({key.prefix}…). They apply within a second.")
            return redirect("portal:keys")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/key_limits.html", {"form": form, "key": key}, status=status)
