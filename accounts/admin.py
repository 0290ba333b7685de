"""Admin for tenants, members, keys and the audit log. Every change goes through the services,
so it is validated (key limits up to the tenant's) and audited. A key's secret is shown once,
on the page after creating or rotating it. Every action declares the model permission it needs,
so a view-only staff user can neither rotate a key (and read its new secret) nor revoke one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.admin_token_lifecycle import revoke_admin_token
from accounts.api_key_lifecycle import (
    DEFAULT_ROTATION_GRACE,
    create_api_key,
    revoke_api_key,
    rotate_api_key,
    update_api_key,
)
from accounts.api_key_lifecycle import (
    EDITABLE_FIELDS as API_KEY_EDITABLE_FIELDS,
)
from accounts.audit_log import LIMIT_FIELDS
from accounts.limit_rules import key_limit_errors
from accounts.models import AdminToken, ApiKey, AuditLogEntry, Tenant, TenantMembership
from accounts.read_only_admin import ReadOnlyAdmin
from accounts.tenant_changes import EDITABLE_FIELDS as TENANT_EDITABLE_FIELDS
from accounts.tenant_changes import create_tenant, update_tenant
from accounts.tenant_membership import add_member, change_member_role, remove_member


class ApiKeyInline(admin.TabularInline):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    model = ApiKey
    fields = ("name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    model = TenantMembership
    fields = ("user", "role")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    list_display = ("name", "is_active", "rpm", "tpm", "max_concurrent", "token_budget", "created_at")
    search_fields = ("name",)
    fields = ("name", "is_active", *LIMIT_FIELDS)
    inlines = [MembershipInline, ApiKeyInline]

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in TENANT_EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            fresh = Tenant.objects.get(pk=obj.pk)
            changed = {name: data[name] for name in form.changed_data if name in data}
            update_tenant(tenant=fresh, changes=changed, actor=request.user)
            return
        created = create_tenant(actor=request.user, **data)
        obj.pk = created.pk
        obj._state.adding = False

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        if formset.model is not TenantMembership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            remove_member(membership=membership, actor=request.user)
        for membership, _ in formset.changed_objects:
            fresh = TenantMembership.objects.select_related("tenant", "user").get(pk=membership.pk)
            if fresh.user_id == membership.user_id:
                change_member_role(membership=fresh, role=membership.role, actor=request.user)
            else:
                remove_member(membership=fresh, actor=request.user)
                add_member(tenant=form.instance, user=membership.user, role=membership.role, actor=request.user)
        for membership in formset.new_objects:
            add_member(tenant=form.instance, user=membership.user, role=membership.role, actor=request.user)


class ApiKeyForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    class Meta:
        model = ApiKey
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tenant = data.get("tenant") or (self.instance.tenant if self.instance.pk else None)
        if tenant is not None:
            values = {name: data.get(name) for name in LIMIT_FIELDS}
            for name, message in key_limit_errors(tenant, values).items():
                self.add_error(name, message)
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    form = ApiKeyForm
    list_display = ("name", "tenant", "prefix", "owner", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("tenant",)
    search_fields = ("name", "prefix", "tenant__name")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at", "previous_secret_expires_at")
    # secret_hash and previous_secret_hash are editable=False and never listed.
    fields = ("tenant", "name", "owner", "notes", "expires_at", *LIMIT_FIELDS, *readonly_fields)
    actions = ["revoke_selected", "rotate_with_grace", "rotate_now"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A key never moves to another tenant: its limits were checked against this one.
        return (*self.readonly_fields, "tenant") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            fresh = ApiKey.objects.select_related("tenant").get(pk=obj.pk)
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in API_KEY_EDITABLE_FIELDS}
            update_api_key(api_key=fresh, changes=changed, actor=request.user)
            return
        data = {name: form.cleaned_data.get(name) for name in ("owner", "notes", *LIMIT_FIELDS)}
        data = {name: value for name, value in data.items() if value is not None}
        created = create_api_key(
            tenant=form.cleaned_data["tenant"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            actor=request.user,
            **data,
        )
        obj.pk = created.api_key.pk
        # Kept on the request only, for response_add; never persisted, never in a message.
        request._oarlock_new_secret = created.secret  # type: ignore[attr-defined]  # our own attribute, read by response_add

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None) -> HttpResponse:
        secret = getattr(request, "_oarlock_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        api_key = ApiKey.objects.select_related("tenant").get(pk=obj.pk)
        return self._secret_page(request, api_key, secret, "admin/accounts/apikey/created.html", "API key created")

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True).select_related("tenant"):
            revoke_api_key(api_key=api_key, actor=request.user)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)

    @admin.action(description="Rotate the selected key (the old secret works 24 more hours)", permissions=["change"])
    def rotate_with_grace(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> HttpResponse | None:
        return self._rotate(request, queryset, DEFAULT_ROTATION_GRACE)

    @admin.action(description="Rotate the selected key now (the old secret stops at once)", permissions=["change"])
    def rotate_now(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> HttpResponse | None:
        return self._rotate(request, queryset, timedelta(0))

    def _rotate(self, request: HttpRequest, queryset: QuerySet[ApiKey], grace: timedelta) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Rotate one key at a time: its new secret is shown only once.", messages.ERROR)
            return None
        api_key = queryset.select_related("tenant").get()
        try:
            created = rotate_api_key(api_key=api_key, grace=grace, actor=request.user)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return None
        return self._secret_page(
            request, created.api_key, created.secret, "admin/accounts/apikey/rotated.html", "API key rotated"
        )

    def _secret_page(
        self, request: HttpRequest, api_key: ApiKey, secret: str, template: str, title: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "api_key": api_key,
            "secret": secret,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, template, context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    """Read-only: entries are written by the services and never edited."""

    list_display = ("created_at", "actor_label", "action", "target_label", "tenant")
    list_filter = ("action", "tenant")
    search_fields = ("actor_label", "target_label", "action")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor_label", "action", "tenant", "target_type", "target_id", "target_label", "changes")
    readonly_fields = fields


@admin.register(AdminToken)
class AdminTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    """People make their own tokens at /api/admin-tokens/; staff can see and revoke them here."""

    list_display = ("name", "user", "prefix", "scope", "created_at", "last_used_at", "expires_at", "revoked_at")
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name", "prefix", "scope", "made_with", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """The form stays read-only for everyone; revoking needs the model's change permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Revoke selected admin tokens", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[AdminToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_admin_token(token=token, actor=request.user)
        self.message_user(request, "Revoked.", messages.SUCCESS)
