"""The API schema and its pages: signed-in staff only, every asset served by the project."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client

from accounts.admin_token_lifecycle import create_admin_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    return client


def test_the_schema_is_refused_to_anyone_signed_out_or_not_staff() -> None:
    assert Client().get("/api/schema/").status_code in (401, 403)
    member = Client()
    member.force_login(get_user_model().objects.create_user("member"))
    assert member.get("/api/schema/").status_code == 403


def test_staff_read_the_schema_with_a_session_or_an_admin_token(staff: Client) -> None:
    assert staff.get("/api/schema/").status_code == 200
    token = create_admin_token(user=get_user_model().objects.get(username="ops"), name="ci")
    assert Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Bearer {token.secret}").status_code == 200


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_send_a_signed_out_browser_to_sign_in(page: str) -> None:
    response = Client().get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_every_asset_from_the_project(staff: Client, page: str) -> None:
    response = staff.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html) + re.findall(r'"(/static/[^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", html)
    assert "jsdelivr" not in html and "unpkg" not in html
