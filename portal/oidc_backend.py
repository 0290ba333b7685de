"""Single sign-on with mozilla-django-oidc: endpoints discovered, memberships from groups.

At every sign-in the person's memberships in the tenants named by ``OARLOCK_OIDC_GROUP_MAP``
are reconciled with the groups claim (removals included). A deactivated account, or one left
with no tenant (and not staff), is refused: the sign-in fails and the portal stays closed.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts.models import TenantMembership
from portal.oidc_discovery import ENDPOINT_SETTINGS, discovered_endpoint
from portal.oidc_group_map import GroupMap, parse_group_map
from portal.sso_membership_sync import sync_sso_memberships


def _setting(attr: str, *args: Any) -> Any:
    if attr in ENDPOINT_SETTINGS:
        return discovered_endpoint(attr)
    return getattr(settings, attr, *args)


class DiscoveringRequestView(OIDCAuthenticationRequestView):  # type: ignore[misc]  # mozilla-django-oidc has no type hints
    """The redirect to the provider, with its authorization endpoint from discovery."""

    get_settings = staticmethod(_setting)


class GroupMappedOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]  # mozilla-django-oidc has no type hints
    get_settings = staticmethod(_setting)

    @cached_property
    def group_map(self) -> GroupMap:
        return parse_group_map(settings.OARLOCK_OIDC_GROUP_MAP)

    def retrieve_matching_jwk(self, token: str) -> Any:
        """The library matches keys by ``kid``; a provider with one signing key may name none
        (oidc-provider-mock, some small IdPs). The signature is verified against it all the same."""
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=self.get_settings("OIDC_TIMEOUT", 10))
        response.raise_for_status()
        keys = [key for key in response.json().get("keys", []) if key.get("use", "sig") == "sig"]
        if len(keys) != 1:
            raise SuspiciousOperation("The ID token names no key and the provider has several.")
        return jwt.PyJWK(keys[0])

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        claims = dict(super().get_userinfo(access_token, id_token, payload))
        # Some providers put groups in the ID token only.
        groups_claim = settings.OARLOCK_OIDC_GROUPS_CLAIM
        if groups_claim not in claims and groups_claim in payload:
            claims[groups_claim] = payload[groups_claim]
        self._claims = claims
        return claims

    def create_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        user_model = get_user_model()
        username = _username(claims)
        if user_model.objects.filter(username=username).exists():
            username = self.get_username(claims)
        return user_model.objects.create_user(username, email=claims.get("email", ""))

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None or not user.is_active:
            return None
        groups = self._claims.get(settings.OARLOCK_OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        sync_sso_memberships(user=user, groups=[str(group) for group in groups], group_map=self.group_map)
        if not user.is_staff and not TenantMembership.objects.filter(user=user).exists():
            return None
        return user


def _username(claims: dict[str, Any]) -> str:
    preferred = str(claims.get("preferred_username") or "").strip()
    return preferred[:150] if preferred else str(claims.get("email", "")).strip()[:150]
