"""The management API over real HTTP: view-only staff look but cannot rotate; no HTTP Basic."""

from __future__ import annotations

import base64

import httpx
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from accounts.admin_token_lifecycle import create_admin_token
from tests.factories import make_api_key
from tests.live_server import LiveServer


def test_view_only_staff_list_keys_but_cannot_rotate_one(live_server: LiveServer, transactional_db: None) -> None:
    key, _ = make_api_key()
    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_apikey"))
    token = create_admin_token(user=viewer, name="laptop")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token.secret}"}) as api:
        listed = api.get("/api/keys/")
        assert listed.status_code == 200 and [item["id"] for item in listed.json()["results"]] == [key.pk]
        rotated = api.post(f"/api/keys/{key.pk}/rotate/", json={"grace_seconds": 0})
    assert rotated.status_code == 403
    assert "secret" not in rotated.text
    key.refresh_from_db()
    assert key.previous_secret_hash is None


def test_http_basic_is_refused_even_with_the_right_password(live_server: LiveServer, transactional_db: None) -> None:
    get_user_model().objects.create_superuser("root", password="right-password")
    basic = "Basic " + base64.b64encode(b"root:right-password").decode()
    for path in ("/api/keys/", "/api/usage/", "/api/schema/"):
        response = httpx.get(live_server.url + path, headers={"Authorization": basic})
        assert response.status_code in (401, 403), path
