"""A tenant's members, for its admins (and staff): add an existing person, change a role,
remove. Through ``accounts.tenant_membership`` (audited); an admin cannot remove or demote
themselves, so a tenant never loses its last admin by accident."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Tenant, TenantMembership, TenantRole
from accounts.tenant_membership import add_member, change_member_role, remove_member
from portal.oidc_group_map import parse_group_map
from portal.person_access import administered_tenant_or_404


class AddMemberForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)
    role = forms.ChoiceField(label="Role", choices=TenantRole.choices, initial=TenantRole.MEMBER)


@login_required
def tenant_members(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = administered_tenant_or_404(request.user, tenant_id)
    form = AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"], is_active=True).first()
        if user is None:
            form.add_error("username", "No active person has this username.")
        elif TenantMembership.objects.filter(tenant=tenant, user=user).exists():
            form.add_error("username", f"{user.get_username()} is already in {tenant.name}.")
        else:
            add_member(tenant=tenant, user=user, role=form.cleaned_data["role"], actor=request.user)
            messages.success(request, f"Added {user.get_username()} to {tenant.name}.")
            return redirect("portal:tenant_members", tenant_id=tenant.pk)
    return render(request, "portal/members.html", _context(request, tenant, form), status=400 if form.errors else 200)


@login_required
@require_POST
def change_member(request: HttpRequest, tenant_id: int, membership_id: int) -> HttpResponse:
    tenant = administered_tenant_or_404(request.user, tenant_id)
    membership = _membership_or_404(tenant, membership_id)
    if membership.user_id == request.user.pk and not request.user.is_staff:
        messages.error(request, "You cannot change your own membership: ask another admin.")
    elif request.POST.get("action") == "remove":
        remove_member(membership=membership, actor=request.user)
        messages.success(request, f"Removed {membership.user.get_username()} from {tenant.name}; their keys here stopped.")
    elif request.POST.get("role") in TenantRole.values:
        change_member_role(membership=membership, role=request.POST["role"], actor=request.user)
        messages.success(request, f"{membership.user.get_username()} is now {membership.role} of {tenant.name}.")
    return redirect("portal:tenant_members", tenant_id=tenant.pk)


def _membership_or_404(tenant: Tenant, membership_id: int) -> TenantMembership:
    membership = TenantMembership.objects.select_related("user").filter(tenant=tenant, pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


def _context(request: HttpRequest, tenant: Tenant, form: AddMemberForm) -> dict[str, object]:
    members = (
        TenantMembership.objects.filter(tenant=tenant).select_related("user")
        .annotate(live_keys=Count("user__api_keys", filter=Q(user__api_keys__tenant=tenant,
                                                            user__api_keys__revoked_at__isnull=True)))
        .order_by("user__username")
    )
    sso_managed = bool(settings.OARLOCK_OIDC_ISSUER) and tenant.name in parse_group_map(
        settings.OARLOCK_OIDC_GROUP_MAP
    ).managed_tenants
    return {"tenant": tenant, "members": members, "form": form, "roles": TenantRole.choices,
            "sso_managed": sso_managed}
