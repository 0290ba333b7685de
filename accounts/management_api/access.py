"""Authentication and permissions of the management API: people, never inference keys.

A person signs in with Django's session (the portal, the admin) or sends a personal admin token
(``Authorization: Bearer oat_…``). An inference key (``oar_…``) is refused here with a clear
message, and the inference API never accepts an admin token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.serializers import as_serializer_error

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass  # the stubs' name for what permission_classes holds

from accounts.admin_token_lifecycle import TOKEN_PREFIX, find_admin_token
from accounts.api_key_secret import SECRET_PREFIX
from accounts.models import AdminToken, AdminTokenScope
from accounts.tenant_access import PermissionAction, administered_tenants, has_model_permission, is_person

M = TypeVar("M", bound=Model)

# The Django model permission each viewset action needs (custom actions add their own).
VIEWSET_ACTION_PERMISSIONS: Final[dict[str, PermissionAction]] = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


class AdminTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, AdminToken] | None:
        scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        secret = secret.strip()
        if secret.startswith(SECRET_PREFIX):
            raise exceptions.AuthenticationFailed(
                "Inference API keys are not accepted by the management API; use a personal admin token."
            )
        if not secret.startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed("Not a personal admin token.")
        token = find_admin_token(secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked admin token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="oarlock-management"'


class AdminTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # drf-spectacular's registering __init_subclass__ is unannotated
    """How the OpenAPI schema describes ``AdminTokenAuthentication``."""

    target_class = AdminTokenAuthentication
    name = "adminToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal admin token (oat_…), made at /api/admin-tokens/. Not an API key.",
        }


class IsPerson(permissions.BasePermission):
    """Signed in as an active user (what the object querysets then narrow down)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_person(request.user)


def permission_action(request: Request, view: Any) -> PermissionAction:
    """``view``/``add``/``change``/``delete`` for this request (an unknown write needs ``change``)."""
    known: dict[str, PermissionAction] = {**VIEWSET_ACTION_PERMISSIONS, **getattr(view, "permission_actions", {})}
    action = getattr(view, "action", None)
    if action in known:
        return known[action]
    return "view" if request.method in permissions.SAFE_METHODS else "change"


def _permission_model(view: Any) -> type[Model]:
    model: type[Model] = view.permission_model
    return model


class HasModelPermission(permissions.BasePermission):
    """Writes need the staff user's Django model permission on ``view.permission_model``.

    Reads are narrowed by the view's queryset instead (members see their own tenants)."""

    message = "Your account does not have the permission for this change."

    def has_permission(self, request: Request, view: Any) -> bool:
        action = permission_action(request, view)
        return action == "view" or has_model_permission(request.user, _permission_model(view), action)


class ManagesTenantObjects(permissions.BasePermission):
    """Writes on a tenant's objects: staff with the model permission, or that tenant's admins.

    An object outside what the person may see is already a 404 (the queryset); one they may
    see but not change is a 403 here (a view-only staff user, for instance)."""

    message = "You may view this but not make this change."

    def has_permission(self, request: Request, view: Any) -> bool:
        action = permission_action(request, view)
        if action == "view":
            return True
        return administered_tenants(request.user, model=_permission_model(view), action=action).exists()

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        action = permission_action(request, view)
        if action == "view":
            return True
        tenants = administered_tenants(request.user, model=_permission_model(view), action=action)
        return tenants.filter(pk=obj.tenant_id).exists()


class TokenScopePermits(permissions.BasePermission):
    """A read-only admin token reads; a session or a write token may also change things."""

    message = "This personal admin token is read-only."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, AdminToken) or token.scope == AdminTokenScope.WRITE:
            return True
        return request.method in permissions.SAFE_METHODS


# What every management endpoint needs before its own permission: a person, within the token's scope.
PERSON_PERMISSIONS: Final[list[type[permissions.BasePermission]]] = [IsPerson, TokenScopePermits]


class ManagementPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ManagementApiMixin:
    """Settings every management viewset shares."""

    # Typed as APIView and GenericAPIView declare them, which this mixin is combined with.
    authentication_classes: Sequence[type[BaseAuthentication]] = [AdminTokenAuthentication, SessionAuthentication]
    permission_classes: Sequence[_PermissionClass] = PERSON_PERMISSIONS
    pagination_class: type[BasePagination] | None = ManagementPagination


def in_tenant_of_query(queryset: QuerySet[M], request: Request) -> QuerySet[M]:
    """``queryset`` narrowed to the ``?tenant=`` id when one is given (else left whole). An id
    past the database's 64-bit integers names no tenant: an empty page, not an overflow (500
    on SQLite) (found by tests/fuzz/test_fuzz_management_api.py)."""
    tenant = request.query_params.get("tenant")
    if not (tenant and tenant.isascii() and tenant.isdigit()):
        return queryset
    tenant_id = int(tenant)
    return queryset.filter(tenant_id=tenant_id) if tenant_id < 2**63 else queryset.none()


def call_service(service: Any, **arguments: Any) -> Any:
    """Run a service; its Django ValidationError becomes DRF's 400 (the admin shows the same)."""
    try:
        return service(**arguments)
    except DjangoValidationError as error:
        raise serializers.ValidationError(as_serializer_error(error)) from error
