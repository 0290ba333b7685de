"""``/api/admin-tokens/``: your own personal admin tokens (the secret is shown once).

A token made with a token (``Authorization: Bearer oat_…``) cannot outlive it or be wider in
scope; one made from a signed-in session lives at most ``OARLOCK_ADMIN_TOKEN_MAX_DAYS``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.admin_token_lifecycle import create_admin_token, revoke_admin_token
from accounts.management_api.access import ManagementApiMixin, call_service
from accounts.models import AdminToken


class AdminTokenSerializer(serializers.ModelSerializer[AdminToken]):
    class Meta:
        model = AdminToken
        fields: tuple[str, ...] = (
            "id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )
        read_only_fields = ("id", "prefix", "created_at", "last_used_at", "revoked_at")
        extra_kwargs = {
            "expires_at": {"help_text": "Default and latest: the lifetime limit, or the expiry of the token used."},
            "scope": {"help_text": "read: GET only; write: everything the person may do. At most the token used."},
        }


class NewAdminTokenSerializer(AdminTokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown only in this response. Store it now.")

    class Meta(AdminTokenSerializer.Meta):
        fields = (*AdminTokenSerializer.Meta.fields, "secret")


class AdminTokenViewSet(
    ManagementApiMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[AdminToken],
):
    serializer_class = AdminTokenSerializer

    def get_queryset(self) -> QuerySet[AdminToken]:
        if getattr(self, "swagger_fake_view", False):
            return AdminToken.objects.none()
        # IsPerson (PERSON_PERMISSIONS) has let only a signed-in person this far.
        return AdminToken.objects.filter(user=self.request.user).order_by("-created_at")  # type: ignore[misc]  # see above

    @extend_schema(responses={201: NewAdminTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made_with = request.auth if isinstance(request.auth, AdminToken) else None
        created = call_service(
            create_admin_token,
            user=request.user,
            actor=request.user,
            made_with=made_with,
            **serializer.validated_data,
        )
        data = NewAdminTokenSerializer(created.token).data
        response = Response({**data, "secret": created.secret}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def perform_destroy(self, instance: AdminToken) -> None:
        """Revoked, not deleted: the audit log keeps pointing at it."""
        revoke_admin_token(token=instance, actor=self.request.user)
