"""``/api/tenants/``: staff with the model permissions create and change tenants; members see their own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets

from accounts.audit_log import LIMIT_FIELDS
from accounts.management_api.access import (
    PERSON_PERMISSIONS,
    HasModelPermission,
    ManagementApiMixin,
    call_service,
)
from accounts.models import Tenant
from accounts.tenant_access import visible_tenants
from accounts.tenant_changes import create_tenant, update_tenant


class AllowedModelsField(serializers.ListField):
    child = serializers.CharField(max_length=200)


class TenantSerializer(serializers.ModelSerializer[Tenant]):
    allowed_models = AllowedModelsField(required=False, help_text="Model names; empty means all.")

    class Meta:
        model = Tenant
        fields = ("id", "name", "is_active", "created_at", *LIMIT_FIELDS)
        read_only_fields = ("id", "created_at")


class TenantViewSet(
    ManagementApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Tenant],
):
    serializer_class = TenantSerializer
    permission_classes = [*PERSON_PERMISSIONS, HasModelPermission]
    permission_model = Tenant

    def get_queryset(self) -> QuerySet[Tenant]:
        if getattr(self, "swagger_fake_view", False):
            return Tenant.objects.none()
        return visible_tenants(self.request.user).order_by("name")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = call_service(create_tenant, actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = call_service(
            update_tenant, tenant=serializer.instance, changes=serializer.validated_data, actor=self.request.user
        )
