"""The playground's session-bound tokens on the real /v1 path: valid only with the live session
cookie they were issued to, for a short time, and never forgeable."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import Tenant, TenantMembership
from accounts.session_bound_token import TOKEN_PREFIX, issue_session_token
from playground.playground_key import playground_key_for
from tests.live_server import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in(user: User) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, client.cookies["sessionid"].value


def _models(server: LiveServer, token: str, session_key: str | None) -> int:
    cookies = {"sessionid": session_key} if session_key else {}
    return httpx.get(
        f"{server.base_url}/models", headers={"Authorization": f"Bearer {token}"}, cookies=cookies, timeout=10
    ).status_code


def test_a_token_works_only_with_its_own_live_session(live_server: LiveServer) -> None:
    user = User.objects.create_user("pat")
    tenant = Tenant.objects.create(name="acme")
    TenantMembership.objects.create(user=user, tenant=tenant)
    key = playground_key_for(user=user, tenant=tenant)
    client, session_key = _signed_in(user)
    _, other_session = _signed_in(user)
    token = issue_session_token(secret_hash=key.secret_hash, session_key=session_key)

    assert _models(live_server, token, session_key) == 200
    assert _models(live_server, token, None) == 401  # copied out of the page, no cookie
    assert _models(live_server, token, other_session) == 401  # another session's cookie
    forged = TOKEN_PREFIX + token[len(TOKEN_PREFIX) : -2] + ("AA" if not token.endswith("AA") else "BB")
    assert _models(live_server, forged, session_key) == 401
    client.logout()  # the session ends: its token stops working
    assert _models(live_server, token, session_key) == 401


def test_the_token_endpoint_needs_a_signed_in_member_and_csrf(live_server: LiveServer) -> None:
    user = User.objects.create_user("pat")
    outsider = User.objects.create_user("outsider")
    TenantMembership.objects.create(user=user, tenant=Tenant.objects.create(name="acme"))
    assert Client().post("/playground/token/").status_code == 302  # to the sign-in page
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(user)
    assert csrf_checked.post("/playground/token/").status_code == 403
    client, session_key = _signed_in(user)
    data = client.post("/playground/token/").json()
    assert data["token"].startswith(TOKEN_PREFIX) and data["expires_in"] == 900
    assert _models(live_server, data["token"], session_key) == 200
    outsider_client, _ = _signed_in(outsider)
    assert outsider_client.post("/playground/token/").status_code == 404
