"""A personal admin token cannot outlive or out-scope the token or session that made it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.admin_token_lifecycle import create_admin_token, revoke_admin_token
from accounts.models import AdminToken
from accounts.tenant_membership import add_member
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def user() -> Any:
    person = get_user_model().objects.create_user("dana")
    add_member(tenant=make_tenant("acme"), user=person, role="admin")
    return person


def with_token(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def mint(client: Client, **fields: Any) -> Any:
    return client.post("/api/admin-tokens/", {"name": "child", **fields}, content_type="application/json")


def expiry_of(response: Any) -> datetime:
    return datetime.fromisoformat(response.json()["expires_at"])


def test_a_short_lived_token_cannot_mint_a_never_expiring_one(user: Any) -> None:
    parent = create_admin_token(user=user, name="ci", expires_at=timezone.now() + timedelta(hours=1))
    child = mint(with_token(parent.secret))
    assert child.status_code == 201
    assert expiry_of(child) == parent.token.expires_at


def test_a_token_cannot_mint_one_that_outlives_it(user: Any) -> None:
    parent = create_admin_token(user=user, name="ci", expires_at=timezone.now() + timedelta(hours=1))
    later = (timezone.now() + timedelta(days=30)).isoformat()
    refused = mint(with_token(parent.secret), expires_at=later)
    assert refused.status_code == 400
    assert "cannot outlive the token it is made with" in refused.json()["expires_at"][0]
    sooner = (timezone.now() + timedelta(minutes=30)).isoformat()
    assert mint(with_token(parent.secret), expires_at=sooner).status_code == 201


def test_a_read_only_token_reads_but_cannot_mint_or_change(user: Any) -> None:
    reader = create_admin_token(user=user, name="dashboards", scope="read")
    client = with_token(reader.secret)
    assert client.get("/api/keys/").status_code == 200
    assert mint(client, scope="read").status_code == 403
    assert client.post("/api/keys/", {"tenant": 1, "name": "x"}, content_type="application/json").status_code == 403


def test_a_write_token_mints_a_read_only_token_that_cannot_write(user: Any) -> None:
    writer = create_admin_token(user=user, name="ops")
    child = mint(with_token(writer.secret), scope="read")
    assert child.status_code == 201 and child.json()["scope"] == "read"
    reader = with_token(child.json()["secret"])
    assert reader.get("/api/admin-tokens/").status_code == 200
    assert reader.delete(f"/api/admin-tokens/{writer.token.pk}/").status_code == 403


def test_a_token_made_from_a_session_lives_at_most_the_configured_days(user: Any, settings: Any) -> None:
    settings.OARLOCK_ADMIN_TOKEN_MAX_DAYS = 30
    session = Client()
    session.force_login(user)
    made = mint(session)
    assert made.status_code == 201
    assert timedelta(days=29) < expiry_of(made) - timezone.now() <= timedelta(days=30)
    too_long = mint(session, expires_at=(timezone.now() + timedelta(days=31)).isoformat())
    assert too_long.status_code == 400 and "30 days" in too_long.json()["expires_at"][0]


def test_revoking_a_token_revokes_the_tokens_made_with_it(user: Any) -> None:
    parent = create_admin_token(user=user, name="ci")
    child = mint(with_token(parent.secret)).json()
    grandchild = mint(with_token(child["secret"])).json()
    revoke_admin_token(token=parent.token)
    for secret in (child["secret"], grandchild["secret"]):
        assert with_token(secret).get("/api/keys/").status_code == 401
    assert AdminToken.objects.filter(revoked_at__isnull=True).count() == 0
