from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.api_key_secret import hash_api_key
from accounts.models import ApiKey
from tests.factories import make_api_key, make_tenant

pytestmark = pytest.mark.django_db


def test_adding_a_key_in_the_admin_shows_its_secret_once_and_never_again(admin_client: Client) -> None:
    tenant = make_tenant("acme")
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {"tenant": tenant.pk, "name": "ci", "budget_period": "month", "allowed_models": "[]"},
    )
    assert response.status_code == 200, response.content[:2000]
    page = response.content.decode()
    secret = re.search(r"(oar_[A-Za-z0-9_-]{43})", page).group(1)
    key = ApiKey.objects.get(name="ci")
    assert key.secret_hash == hash_api_key(secret)
    assert "no-store" in response["Cache-Control"]
    for url in (
        "/admin/accounts/apikey/",
        f"/admin/accounts/apikey/{key.pk}/change/",
        f"/admin/accounts/tenant/{tenant.pk}/change/",
    ):
        later = admin_client.get(url).content.decode()
        assert secret not in later
        assert key.secret_hash not in later


def test_the_revoke_action_revokes_the_selected_keys(admin_client: Client) -> None:
    api_key, _ = make_api_key()
    response = admin_client.post(
        "/admin/accounts/apikey/", {"action": "revoke_selected", "_selected_action": [api_key.pk]}
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
