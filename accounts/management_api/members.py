"""``/api/tenants/{tenant_id}/members/``: the people of a tenant and their roles.

Tenant admins and staff manage them. A tenant you cannot see answers 404; one you are only a
member of answers 403. Nobody but staff changes their own membership, so a tenant admin cannot
lock the tenant out by accident.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, mixins, serializers, viewsets

from accounts.management_api.access import ManagementApiMixin, call_service, permission_action
from accounts.models import Tenant, TenantMembership
from accounts.tenant_access import administered_tenants, is_staff, visible_tenants
from accounts.tenant_membership import add_member, change_member_role, remove_member


class MembershipSerializer(serializers.ModelSerializer[TenantMembership]):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())

    class Meta:
        model = TenantMembership
        fields = ("id", "user", "role", "created_at")
        read_only_fields = ("id", "created_at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["user"].read_only = True  # change the role, or remove and add someone else

    def validate_user(self, user: Any) -> Any:
        tenant = self.context["tenant"]
        if TenantMembership.objects.filter(tenant=tenant, user=user).exists():
            raise serializers.ValidationError("Already a member of this tenant.")
        return user


class MembershipViewSet(
    ManagementApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[TenantMembership],
):
    serializer_class = MembershipSerializer

    def tenant(self) -> Tenant:
        if not hasattr(self, "_tenant"):
            tenant = get_object_or_404(visible_tenants(self.request.user), pk=self.kwargs["tenant_pk"])
            action = permission_action(self.request, self)
            managed = administered_tenants(self.request.user, model=TenantMembership, action=action)
            if not managed.filter(pk=tenant.pk).exists():
                raise exceptions.PermissionDenied("Only the tenant's admins manage its members.")
            self._tenant = tenant
        return self._tenant

    def get_queryset(self) -> QuerySet[TenantMembership]:
        if getattr(self, "swagger_fake_view", False):
            return TenantMembership.objects.none()
        return TenantMembership.objects.filter(tenant=self.tenant()).select_related("user").order_by("user__username")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False) and "tenant_pk" in self.kwargs:
            context["tenant"] = self.tenant()
        return context

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = call_service(
            add_member,
            tenant=self.tenant(),
            user=serializer.validated_data["user"],
            role=serializer.validated_data.get("role", "member"),
            actor=self.request.user,
        )

    def perform_update(self, serializer: Any) -> None:
        self._refuse_own_membership(serializer.instance)
        serializer.instance = call_service(
            change_member_role,
            membership=serializer.instance,
            role=serializer.validated_data.get("role", serializer.instance.role),
            actor=self.request.user,
        )

    def perform_destroy(self, instance: TenantMembership) -> None:
        self._refuse_own_membership(instance)
        remove_member(membership=instance, actor=self.request.user)

    def _refuse_own_membership(self, membership: TenantMembership) -> None:
        if membership.user_id == self.request.user.pk and not is_staff(self.request.user):
            raise exceptions.PermissionDenied("You cannot change your own membership; ask another admin.")
