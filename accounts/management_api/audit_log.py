"""``/api/audit-log/``: read-only; staff see everything, tenant admins their tenants' entries."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.management_api.access import ManagementApiMixin, in_tenant_of_query
from accounts.models import AuditLogEntry
from accounts.tenant_access import visible_audit_log


class AuditLogEntrySerializer(serializers.ModelSerializer[AuditLogEntry]):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditLogEntry
        fields = (
            "id",
            "created_at",
            "actor",
            "action",
            "tenant",
            "target_type",
            "target_id",
            "target_label",
            "changes",
        )
        read_only_fields = fields


class AuditLogViewSet(ManagementApiMixin, viewsets.ReadOnlyModelViewSet[AuditLogEntry]):
    serializer_class = AuditLogEntrySerializer

    def get_queryset(self) -> QuerySet[AuditLogEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditLogEntry.objects.none()
        return in_tenant_of_query(visible_audit_log(self.request.user), self.request)

    @extend_schema(parameters=[OpenApiParameter("tenant", int, description="Only this tenant's entries.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
