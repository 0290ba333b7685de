"""Roles enforced server-side: nothing of another member or tenant is reachable by URL, form
post or id guessing (404), and a tenant admin's reach ends at their tenant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.api_key_authentication import authenticate_secret
from accounts.errors import RevokedApiKey
from accounts.models import ApiKey, AuditLogEntry, Tenant, TenantMembership
from accounts.tenant_membership import remove_member
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db


def _person(name: str, tenant: Tenant | None, role: str = "member", **flags: Any) -> Any:
    user = get_user_model().objects.create_user(name, password="pw", **flags)
    if tenant is not None:
        TenantMembership.objects.create(user=user, tenant=tenant, role=role)
    return user


def _client(user: Any) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


@pytest.fixture
def world() -> dict[str, Any]:
    acme, globex = Tenant.objects.create(name="acme", rpm=100), Tenant.objects.create(name="globex")
    people = {
        "ann": _person("ann", acme),
        "bob": _person("bob", acme),
        "ada": _person("ada", acme, "admin"),
        "gus": _person("gus", globex, "admin"),
        "sam": _person("sam", None, is_staff=True),
    }
    keys = {
        "ann": make_api_key(acme, name="ann's", owner=people["ann"])[0],
        "bob": make_api_key(acme, name="bob's", owner=people["bob"])[0],
        "gus": make_api_key(globex, name="gus's", owner=people["gus"])[0],
    }
    return {"acme": acme, "globex": globex, "people": people, "keys": keys}


def test_a_member_cannot_revoke_or_rotate_another_members_key(world: dict[str, Any]) -> None:
    ann = _client(world["people"]["ann"])
    bob_key = world["keys"]["bob"]
    assert ann.post(f"/keys/{bob_key.pk}/revoke/").status_code == 404
    assert ann.post(f"/keys/{bob_key.pk}/rotate/", {"grace_hours": "0"}).status_code == 404
    assert ann.post("/keys/999999/revoke/").status_code == 404
    bob_key.refresh_from_db()
    assert bob_key.revoked_at is None
    page = ann.get("/keys/").content.decode()
    assert "ann&#x27;s" in page and "bob&#x27;s" not in page


def test_a_tenant_admin_manages_their_tenants_keys_and_no_other(world: dict[str, Any]) -> None:
    ada = _client(world["people"]["ada"])
    assert "bob&#x27;s" in ada.get("/keys/").content.decode()
    assert ada.post(f"/keys/{world['keys']['gus'].pk}/revoke/").status_code == 404
    assert ada.post(f"/keys/{world['keys']['bob'].pk}/revoke/").status_code == 302
    world["keys"]["bob"].refresh_from_db()
    assert world["keys"]["bob"].revoked_at is not None
    entry = AuditLogEntry.objects.get(action="api_key.revoked")
    assert (entry.actor_label, entry.tenant) == ("ada", world["acme"])
    assert ada.get(f"/usage/tenants/{world['acme'].pk}/").status_code == 200
    assert ada.get(f"/usage/tenants/{world['globex'].pk}/").status_code == 404
    assert ada.get(f"/usage/tenants/{world['globex'].pk}/export.csv").status_code == 404


def test_members_see_no_tenant_usage_and_staff_see_every_tenant(world: dict[str, Any]) -> None:
    ann = _client(world["people"]["ann"])
    assert ann.get(f"/usage/tenants/{world['acme'].pk}/").status_code == 404
    assert ann.get(f"/usage/tenants/{world['acme'].pk}/export.csv").status_code == 404
    sam = world["people"]["sam"]
    assert _client(sam).get(f"/usage/tenants/{world['globex'].pk}/").status_code == 404  # staff without the permission
    sam.user_permissions.add(Permission.objects.get(codename="view_usagerecord"))
    sam = get_user_model().objects.get(pk=sam.pk)  # permissions are cached per instance
    assert _client(sam).get(f"/usage/tenants/{world['globex'].pk}/").status_code == 200


def test_view_only_staff_cannot_revoke_keys_or_change_members_in_the_portal(world: dict[str, Any]) -> None:
    sam = world["people"]["sam"]
    sam.user_permissions.add(*Permission.objects.filter(codename__in=["view_apikey", "view_tenantmembership"]))
    sam = _client(get_user_model().objects.get(pk=sam.pk))
    assert sam.get(f"/tenants/{world['acme'].pk}/members/").status_code == 200
    assert sam.post(f"/keys/{world['keys']['bob'].pk}/revoke/").status_code == 404
    assert sam.post(f"/tenants/{world['acme'].pk}/members/", {"username": "gus", "role": "member"}).status_code == 404
    world["keys"]["bob"].refresh_from_db()
    assert world["keys"]["bob"].revoked_at is None


def test_a_key_cannot_be_made_in_another_tenant_or_above_the_tenants_limits(world: dict[str, Any]) -> None:
    ann = _client(world["people"]["ann"])
    foreign = ann.post("/keys/", {"name": "sneaky", "tenant": world["globex"].pk, "expires_on": "2099-01-01"})
    assert foreign.status_code == 400
    too_fast = ann.post("/keys/", {"name": "fast", "tenant": world["acme"].pk, "rpm": 101, "expires_on": _in_days(30)})
    assert too_fast.status_code == 400
    assert "cannot exceed its tenant" in too_fast.content.decode()
    never = ann.post("/keys/", {"name": "forever", "tenant": world["acme"].pk, "expires_on": _in_days(400)})
    assert never.status_code == 400
    assert not ApiKey.objects.filter(name__in=["sneaky", "fast", "forever"]).exists()
    made = ann.post("/keys/", {"name": "fine", "tenant": world["acme"].pk, "rpm": 100, "expires_on": _in_days(30)})
    assert made.status_code == 200 and b"data-secret" in made.content
    key = ApiKey.objects.get(name="fine")
    assert (key.owner, key.tenant, key.rpm) == (world["people"]["ann"], world["acme"], 100)
    assert AuditLogEntry.objects.filter(action="api_key.created", target_id=str(key.pk), actor_label="ann").exists()


def test_signed_out_pages_redirect_to_sign_in() -> None:
    client = Client(HTTP_HOST="127.0.0.1")
    for url in ("/", "/keys/", "/usage/", "/models/", "/usage/export.csv"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={url}")


@pytest.mark.django_db(transaction=True)
def test_a_persons_keys_stop_when_they_leave_the_tenant_or_are_deactivated() -> None:
    acme = Tenant.objects.create(name="acme")
    ann, bob = _person("ann", acme), _person("bob", acme)
    ann_key, ann_secret = make_api_key(acme, owner=ann)
    bob_key, bob_secret = make_api_key(acme, owner=bob)
    assert async_to_sync(authenticate_secret)(ann_secret).key_id == ann_key.pk
    assert async_to_sync(authenticate_secret)(bob_secret).key_id == bob_key.pk

    remove_member(membership=TenantMembership.objects.get(user=ann))
    with pytest.raises(RevokedApiKey):
        async_to_sync(authenticate_secret)(ann_secret)

    bob.is_active = False
    bob.save()
    with pytest.raises(RevokedApiKey):
        async_to_sync(authenticate_secret)(bob_secret)
    entry = AuditLogEntry.objects.get(action="user.deactivated")
    assert (entry.target_label, entry.changes) == ("bob", {"is_active": {"before": True, "after": False}})


def _in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_tenant_admins_manage_members_of_their_tenant_only(world: dict[str, Any]) -> None:
    people, acme, globex = world["people"], world["acme"], world["globex"]
    ann, ada = _client(people["ann"]), _client(people["ada"])
    assert ann.get(f"/tenants/{acme.pk}/members/").status_code == 404
    assert ada.get(f"/tenants/{globex.pk}/members/").status_code == 404
    gus_membership = TenantMembership.objects.get(user=people["gus"])
    # Another tenant's membership id under one's own tenant: 404 all the same.
    assert ada.post(f"/tenants/{acme.pk}/members/{gus_membership.pk}/", {"action": "remove"}).status_code == 404
    assert TenantMembership.objects.filter(pk=gus_membership.pk).exists()

    assert ada.post(f"/tenants/{acme.pk}/members/", {"username": "gus", "role": "member"}).status_code == 302
    gus_in_acme = TenantMembership.objects.get(user=people["gus"], tenant=acme)
    ada.post(f"/tenants/{acme.pk}/members/{gus_in_acme.pk}/", {"role": "admin"})
    assert TenantMembership.objects.get(pk=gus_in_acme.pk).role == "admin"
    bob = TenantMembership.objects.get(user=people["bob"], tenant=acme)
    ada.post(f"/tenants/{acme.pk}/members/{bob.pk}/", {"action": "remove"})
    assert not TenantMembership.objects.filter(pk=bob.pk).exists()
    own = TenantMembership.objects.get(user=people["ada"], tenant=acme)
    ada.post(f"/tenants/{acme.pk}/members/{own.pk}/", {"action": "remove"})
    assert TenantMembership.objects.filter(pk=own.pk, role="admin").exists()
    assert ada.post(f"/tenants/{acme.pk}/members/", {"username": "nobody", "role": "member"}).status_code == 400
    actions = list(
        AuditLogEntry.objects.filter(tenant=acme, action__startswith="member.")
        .order_by("id")
        .values_list("action", "actor_label")
    )
    assert actions == [("member.added", "ada"), ("member.role_changed", "ada"), ("member.removed", "ada")]


def _limits(key: ApiKey, **values: Any) -> dict[str, Any]:
    return {"expires_on": _in_days(30), **values}


@pytest.mark.django_db(transaction=True)
def test_a_tenant_admin_lowers_a_members_key_limit_and_it_applies(world: dict[str, Any]) -> None:
    ada, bob_key = _client(world["people"]["ada"]), world["keys"]["bob"]
    fresh_key, fresh_secret = make_api_key(world["acme"], name="fresh", owner=world["people"]["bob"])
    assert async_to_sync(authenticate_secret)(fresh_secret).key_limits.rpm is None  # cached now
    page = ada.get("/keys/").content.decode()
    assert f'href="/keys/{bob_key.pk}/limits/"' in page
    form = ada.get(f"/keys/{fresh_key.pk}/limits/")
    assert form.status_code == 200 and b'<label for="id_rpm">Requests per minute</label>' in form.content
    saved = ada.post(f"/keys/{fresh_key.pk}/limits/", _limits(fresh_key, rpm=5, max_concurrent=2))
    assert (saved.status_code, saved["Location"]) == (302, "/keys/")
    fresh_key.refresh_from_db()
    assert (fresh_key.rpm, fresh_key.max_concurrent) == (5, 2)
    # The cached lookup was dropped: the next request sees the new limit.
    assert async_to_sync(authenticate_secret)(fresh_secret).key_limits.rpm == 5
    entry = AuditLogEntry.objects.get(action="api_key.updated", target_id=str(fresh_key.pk))
    assert entry.actor_label == "ada" and entry.changes["rpm"] == {"before": None, "after": 5}


def test_key_limits_above_the_tenants_are_refused_with_an_error_summary(world: dict[str, Any]) -> None:
    ada, bob_key = _client(world["people"]["ada"]), world["keys"]["bob"]
    refused = ada.post(f"/keys/{bob_key.pk}/limits/", _limits(bob_key, rpm=101))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'id="error-summary"' in page and "cannot exceed its tenant" in page
    bob_key.refresh_from_db()
    assert bob_key.rpm is None
    assert not AuditLogEntry.objects.filter(action="api_key.updated").exists()


def test_only_the_keys_tenant_admins_and_changing_staff_edit_key_limits(world: dict[str, Any]) -> None:
    people, keys = world["people"], world["keys"]
    ann, gus = _client(people["ann"]), _client(people["gus"])
    for client, key in ((ann, keys["bob"]), (ann, keys["ann"]), (gus, keys["bob"])):
        assert client.get(f"/keys/{key.pk}/limits/").status_code == 404
        assert client.post(f"/keys/{key.pk}/limits/", _limits(key, rpm=1)).status_code == 404
    assert f"/keys/{keys['ann'].pk}/limits/" not in ann.get("/keys/").content.decode()
    sam = people["sam"]
    sam.user_permissions.add(*Permission.objects.filter(codename="view_apikey"))
    viewer = _client(get_user_model().objects.get(pk=sam.pk))
    assert viewer.post(f"/keys/{keys['bob'].pk}/limits/", _limits(keys["bob"], rpm=1)).status_code == 404
    sam.user_permissions.add(*Permission.objects.filter(codename="change_apikey"))
    changer = _client(get_user_model().objects.get(pk=sam.pk))
    assert changer.post(f"/keys/{keys['gus'].pk}/limits/", _limits(keys["gus"], rpm=7)).status_code == 302
    for key in keys.values():
        key.refresh_from_db()
    assert (keys["ann"].rpm, keys["bob"].rpm, keys["gus"].rpm) == (None, None, 7)
