"""``/api/keys/``: create, change, rotate and revoke API keys of the tenants you administer.

A key of a tenant you do not administer does not exist for you (404). Secrets appear in exactly
two responses — creating and rotating — and nowhere else, ever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_key_lifecycle import (
    DEFAULT_ROTATION_GRACE,
    MAX_ROTATION_GRACE,
    create_api_key,
    revoke_api_key,
    rotate_api_key,
    update_api_key,
)
from accounts.audit_log import LIMIT_FIELDS
from accounts.limit_rules import key_limit_errors
from accounts.management_api.access import (
    PERSON_PERMISSIONS,
    ManagementApiMixin,
    ManagesTenantObjects,
    call_service,
    in_tenant_of_query,
)
from accounts.management_api.tenants import AllowedModelsField
from accounts.models import ApiKey, Tenant, TenantMembership
from accounts.tenant_access import administered_keys, administered_tenants


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    tenant = serializers.PrimaryKeyRelatedField(queryset=Tenant.objects.none())
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="Username of the person responsible for the key (a member of its tenant).",
    )
    allowed_models = AllowedModelsField(required=False, help_text="Model names; empty means the tenant's.")

    class Meta:
        model = ApiKey
        fields: tuple[str, ...] = (
            "id",
            "tenant",
            "name",
            "prefix",
            "owner",
            "notes",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "previous_secret_expires_at",
            *LIMIT_FIELDS,
        )
        read_only_fields = (
            "id",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
            "previous_secret_expires_at",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        tenant_field = self.fields["tenant"]
        tenant_field.queryset = administered_tenants(getattr(request, "user", None), action="add")  # type: ignore[attr-defined]  # the PrimaryKeyRelatedField declared above, typed as a Field
        if self.instance is not None:
            tenant_field.read_only = True  # a key never moves to another tenant

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Creating needs a tenant; an existing key keeps its own (the field is read-only then).
        tenant: Tenant = attrs["tenant"] if self.instance is None else attrs.get("tenant") or self.instance.tenant
        values = {name: attrs.get(name, getattr(self.instance, name, None)) for name in LIMIT_FIELDS}
        errors: dict[str, Any] = dict(key_limit_errors(tenant, values))
        owner = attrs.get("owner")
        if owner is not None and not (
            owner.is_staff or TenantMembership.objects.filter(tenant=tenant, user=owner).exists()
        ):
            errors["owner"] = "The owner must be a member of the key's tenant."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class NewSecretSerializer(ApiKeySerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown only in this response. Store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "secret")


class RotationSerializer(serializers.Serializer[Any]):
    grace_seconds = serializers.IntegerField(
        min_value=0,
        max_value=int(MAX_ROTATION_GRACE.total_seconds()),
        default=int(DEFAULT_ROTATION_GRACE.total_seconds()),
        help_text="How long the old secret keeps working (0: it stops at once).",
    )


class ApiKeyViewSet(
    ManagementApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[ApiKey],
):
    serializer_class = ApiKeySerializer
    permission_classes = [*PERSON_PERMISSIONS, ManagesTenantObjects]
    permission_model = ApiKey
    permission_actions = {"rotate": "change", "revoke": "change"}

    def get_queryset(self) -> QuerySet[ApiKey]:
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return in_tenant_of_query(
            administered_keys(self.request.user).order_by("tenant__name", "name", "id"), self.request
        )

    @extend_schema(
        parameters=[OpenApiParameter("tenant", int, description="Only the keys of this tenant.")],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ApiKeySerializer, responses={201: NewSecretSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        created = call_service(
            create_api_key,
            tenant=data.pop("tenant"),
            name=data.pop("name"),
            expires_at=data.pop("expires_at", None),
            actor=request.user,
            **data,
        )
        return _with_secret(created.api_key, created.secret, status.HTTP_201_CREATED, self)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = call_service(
            update_api_key, api_key=serializer.instance, changes=serializer.validated_data, actor=self.request.user
        )

    @extend_schema(request=RotationSerializer, responses={200: NewSecretSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str | None = None) -> Response:
        """A new secret, shown once; the old one keeps working for ``grace_seconds``."""
        api_key = self.get_object()
        rotation = RotationSerializer(data=request.data)
        rotation.is_valid(raise_exception=True)
        grace = timedelta(seconds=rotation.validated_data["grace_seconds"])
        created = call_service(rotate_api_key, api_key=api_key, grace=grace, actor=request.user)
        return _with_secret(created.api_key, created.secret, status.HTTP_200_OK, self)

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Stop the key at once, on every worker within a second. Cannot be undone."""
        api_key = revoke_api_key(api_key=self.get_object(), actor=request.user)
        return Response(self.get_serializer(api_key).data)


def _with_secret(api_key: ApiKey, secret: str, status_code: int, view: ApiKeyViewSet) -> Response:
    data = NewSecretSerializer(api_key, context=view.get_serializer_context()).data
    response = Response({**data, "secret": secret}, status=status_code)
    response["Cache-Control"] = "no-store"
    return response
