"""The management API under ``/api/`` and its OpenAPI schema (``/api/schema/``, ``/api/docs/``,
``/api/redoc/``): staff only; the pages send a signed-out browser to the admin's sign-in."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.management_api.admin_tokens import AdminTokenViewSet
from accounts.management_api.api_keys import ApiKeyViewSet
from accounts.management_api.audit_log import AuditLogViewSet
from accounts.management_api.members import MembershipViewSet
from accounts.management_api.tenants import TenantViewSet

router = DefaultRouter()
router.register("tenants", TenantViewSet, basename="tenant")
router.register("keys", ApiKeyViewSet, basename="apikey")
router.register("audit-log", AuditLogViewSet, basename="auditlog")
router.register("admin-tokens", AdminTokenViewSet, basename="admintoken")

members = MembershipViewSet.as_view({"get": "list", "post": "create"})
member = MembershipViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", staff_member_required(SpectacularSwaggerView.as_view(url_name="schema")), name="api-docs"),
    path("redoc/", staff_member_required(SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
    path("tenants/<int:tenant_pk>/members/", members, name="tenant-members"),
    path("tenants/<int:tenant_pk>/members/<int:pk>/", member, name="tenant-member"),
    *router.urls,
]
