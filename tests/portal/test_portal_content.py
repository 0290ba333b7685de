"""What the portal pages say: expiry reminders, usage that matches /api/usage/, and a model
catalogue limited to what the person may use."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import Tenant, TenantMembership
from inference.models import Upstream
from tests.factories import make_api_key
from tests.live_server import free_port
from usage.models import UsageRollup

pytestmark = pytest.mark.django_db


def _signed_in(user: Any) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _member(name: str, tenant: Tenant, role: str = "member") -> Any:
    user = get_user_model().objects.create_user(name)
    TenantMembership.objects.create(user=user, tenant=tenant, role=role)
    return user


def test_a_key_expiring_within_a_week_is_announced_on_home_and_keys() -> None:
    acme = Tenant.objects.create(name="acme")
    ann = _member("ann", acme)
    now = timezone.now()
    make_api_key(acme, name="soon", owner=ann, expires_at=now + timedelta(days=3))
    make_api_key(acme, name="later", owner=ann, expires_at=now + timedelta(days=30))
    client = _signed_in(ann)
    for url in ("/", "/keys/"):
        page = client.get(url).content.decode()
        assert "Your key “soon”" in page
        assert "Your key “later”" not in page


def test_tenant_usage_matches_the_usage_api(admin_user: Any) -> None:
    acme = Tenant.objects.create(name="acme")
    ada = _member("ada", acme, "admin")
    today = timezone.localdate()
    for number, owner in enumerate((ada, None)):
        key, _ = make_api_key(acme, name=f"k{number}", owner=owner)
        for offset in range(3):
            UsageRollup.objects.create(
                day=today - timedelta(days=offset), tenant_id=acme.pk, api_key_id=key.pk, model="m",
                tenant_name="acme", key_name=key.name, key_prefix=key.prefix, requests=2 + number,
                prompt_tokens=100 * (offset + 1), reasoning_tokens=7, completion_tokens=11 + number,
            )
    portal = _signed_in(ada).get(f"/usage/tenants/{acme.pk}/export.csv", {"group_by": "key", "days": 30})
    api = _signed_in(admin_user).get("/api/usage/", {
        "group_by": "key", "tenant": acme.pk, "since": (today - timedelta(days=29)).isoformat(),
        "until": today.isoformat(),
    })
    portal_rows = [{name: str(value) for name, value in row.items()} for row in csv.DictReader(io.StringIO(portal.content.decode()))]
    api_rows = [{name: str(value) for name, value in row.items()} for row in api.json()]
    assert portal_rows == api_rows and len(portal_rows) == 2
    # The person's own page counts their key only.
    mine = _signed_in(ada).get("/usage/export.csv", {"group_by": "key"})
    assert [row["key"] for row in csv.DictReader(io.StringIO(mine.content.decode()))] == ["k0"]


@pytest.mark.django_db(transaction=True)  # the async view's registry closes its connections
def test_the_catalogue_lists_only_allowed_models_with_their_health_and_snippets() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    Upstream.objects.create(model_name="alpha", inference_url=dead)
    Upstream.objects.create(model_name="beta", inference_url=dead)
    acme = Tenant.objects.create(name="acme", allowed_models=["alpha"])
    page = _signed_in(_member("ann", acme)).get("/models/").content.decode()
    assert 'data-model="alpha"' in page and 'data-model="beta"' not in page
    assert 'data-health="down"' in page
    for needle in ("curl http://127.0.0.1/v1/chat/completions", 'base_url="http://127.0.0.1/v1"',
                   "[model_providers.oarlock]", "@ai-sdk/openai-compatible", "new OpenAI("):
        assert needle in page.replace("&quot;", '"')
