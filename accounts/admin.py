"""Admin for tenants and keys. A key's secret is shown once, on the page after creating it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.api_key_lifecycle import create_api_key, revoke_api_key
from accounts.models import ApiKey, Tenant

LIMIT_FIELDS = ("rpm", "tpm", "max_concurrent", "token_budget", "budget_period", "allowed_models")


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "rpm", "tpm", "max_concurrent", "token_budget", "created_at")
    search_fields = ("name",)
    fields = ("name", "is_active", *LIMIT_FIELDS)
    inlines = [ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "tenant", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("tenant",)
    search_fields = ("name", "prefix", "tenant__name")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    # secret_hash and previous_secret_hash are editable=False and never listed.
    fields = ("tenant", "name", "owner", "notes", "expires_at", *LIMIT_FIELDS, *readonly_fields)
    actions = ["revoke_selected"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = {name: form.cleaned_data.get(name) for name in ("owner", "notes", *LIMIT_FIELDS)}
        data = {name: value for name, value in data.items() if value is not None}
        created = create_api_key(
            tenant=form.cleaned_data["tenant"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            **data,
        )
        obj.pk = created.api_key.pk
        # Kept on the request only, for response_add; never persisted, never in a message.
        request._oarlock_new_secret = created.secret  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None) -> HttpResponse:
        secret = getattr(request, "_oarlock_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        api_key = ApiKey.objects.select_related("tenant").get(pk=obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "API key created",
            "api_key": api_key,
            "secret": secret,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/accounts/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            revoke_api_key(api_key=api_key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
