"""Authentication and permissions of the management API: people, never inference keys.

A person signs in with Django's session (the portal, the admin) or sends a personal admin token
(``Authorization: Bearer oat_…``). An inference key (``oar_…``) is refused here with a clear
message, and the inference API never accepts an admin token.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.serializers import as_serializer_error

from accounts.admin_token_lifecycle import TOKEN_PREFIX, find_admin_token
from accounts.api_key_secret import SECRET_PREFIX
from accounts.models import AdminToken
from accounts.tenant_access import is_person, is_staff


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


class AdminTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
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


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or is_staff(request.user)


class ManagementPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ManagementApiMixin:
    """Settings every management viewset shares."""

    authentication_classes = [AdminTokenAuthentication, SessionAuthentication]
    permission_classes: list[type[permissions.BasePermission]] = [IsPerson]
    pagination_class = ManagementPagination


def call_service(service: Any, **arguments: Any) -> Any:
    """Run a service; its Django ValidationError becomes DRF's 400 (the admin shows the same)."""
    try:
        return service(**arguments)
    except DjangoValidationError as error:
        raise serializers.ValidationError(as_serializer_error(error)) from error
