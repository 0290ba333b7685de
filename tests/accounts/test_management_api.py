"""The management API: staff see everything, a tenant admin only their tenants (else 404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.admin_token_lifecycle import create_admin_token, revoke_admin_token
from accounts.api_key_secret import hash_api_key
from accounts.models import ApiKey, AuditLogEntry, Tenant, TenantMembership
from accounts.tenant_membership import add_member
from tests.factories import make_api_key, make_tenant

pytestmark = pytest.mark.django_db


def person(username: str, **fields: Any) -> Any:
    return get_user_model().objects.create_user(username, **fields)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme() -> Tenant:
    return make_tenant("acme", rpm=100, tpm=10_000)


@pytest.fixture
def globex() -> Tenant:
    return make_tenant("globex")


@pytest.fixture
def acme_admin(acme: Tenant) -> Client:
    user = person("alice")
    add_member(tenant=acme, user=user, role="admin")
    return client_for(user)


def post(client: Client, url: str, data: Any = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(url, data, content_type="application/json")


def test_a_tenant_admin_lists_only_their_own_tenants_keys(acme: Tenant, globex: Tenant, acme_admin: Client) -> None:
    own, _ = make_api_key(acme, name="own")
    make_api_key(globex, name="theirs")
    response = acme_admin.get("/api/keys/")
    assert response.status_code == 200
    assert [key["id"] for key in response.json()["results"]] == [own.pk]


def test_another_tenants_key_does_not_exist_for_a_tenant_admin(globex: Tenant, acme_admin: Client) -> None:
    theirs, _ = make_api_key(globex)
    url = f"/api/keys/{theirs.pk}/"
    assert acme_admin.get(url).status_code == 404
    assert patch(acme_admin, url, {"rpm": 1}).status_code == 404
    assert post(acme_admin, url + "rotate/").status_code == 404
    assert post(acme_admin, url + "revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and theirs.rpm is None


def test_a_tenant_admin_cannot_create_a_key_in_another_tenant(globex: Tenant, acme_admin: Client) -> None:
    response = post(acme_admin, "/api/keys/", {"tenant": globex.pk, "name": "sneaky"})
    assert response.status_code == 400
    assert "tenant" in response.json()
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_another_tenants_members_do_not_exist_for_a_tenant_admin(globex: Tenant, acme_admin: Client) -> None:
    assert acme_admin.get(f"/api/tenants/{globex.pk}/members/").status_code == 404
    assert post(acme_admin, f"/api/tenants/{globex.pk}/members/", {"user": "alice"}).status_code == 404
    assert acme_admin.get(f"/api/tenants/{globex.pk}/").status_code == 404


def test_creating_a_key_shows_its_secret_once(acme: Tenant, acme_admin: Client) -> None:
    response = post(acme_admin, "/api/keys/", {"tenant": acme.pk, "name": "ci", "rpm": 50})
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert response["Cache-Control"] == "no-store"
    assert ApiKey.objects.get(pk=body["id"]).secret_hash == hash_api_key(secret)
    later = acme_admin.get(f"/api/keys/{body['id']}/").content.decode() + acme_admin.get("/api/keys/").content.decode()
    assert secret not in later and '"secret"' not in later


def test_a_tenant_admin_sets_key_limits_up_to_the_tenants_own(acme: Tenant, acme_admin: Client) -> None:
    too_much = post(acme_admin, "/api/keys/", {"tenant": acme.pk, "name": "ci", "rpm": 101})
    assert too_much.status_code == 400
    assert "cannot exceed its tenant" in too_much.json()["rpm"][0]
    key, _ = make_api_key(acme)
    assert patch(acme_admin, f"/api/keys/{key.pk}/", {"tpm": 10_001}).status_code == 400
    assert patch(acme_admin, f"/api/keys/{key.pk}/", {"tpm": 10_000, "notes": "batch"}).status_code == 200
    key.refresh_from_db()
    assert (key.tpm, key.notes) == (10_000, "batch")


def test_rotating_through_the_api_returns_the_new_secret_once(acme: Tenant, acme_admin: Client) -> None:
    key, old_secret = make_api_key(acme)
    response = post(acme_admin, f"/api/keys/{key.pk}/rotate/", {"grace_seconds": 600})
    assert response.status_code == 200
    body = response.json()
    key.refresh_from_db()
    assert key.secret_hash == hash_api_key(body["secret"])
    assert key.previous_secret_hash == hash_api_key(old_secret)
    assert body["previous_secret_expires_at"] is not None


def test_revoking_through_the_api_revokes_and_audits(acme: Tenant, acme_admin: Client) -> None:
    key, _ = make_api_key(acme)
    response = post(acme_admin, f"/api/keys/{key.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    entry = AuditLogEntry.objects.get(action="api_key.revoked")
    assert (entry.actor_label, entry.tenant_id, entry.target_id) == ("alice", acme.pk, str(key.pk))


def test_a_tenant_admin_cannot_change_tenant_limits(acme: Tenant, acme_admin: Client) -> None:
    assert patch(acme_admin, f"/api/tenants/{acme.pk}/", {"rpm": 10_000}).status_code == 403
    assert post(acme_admin, "/api/tenants/", {"name": "new"}).status_code == 403


def test_staff_manage_every_tenant(acme: Tenant, globex: Tenant) -> None:
    staff = client_for(person("root", is_staff=True, is_superuser=True))
    assert {tenant["name"] for tenant in staff.get("/api/tenants/").json()["results"]} == {"acme", "globex"}
    assert patch(staff, f"/api/tenants/{globex.pk}/", {"rpm": 5}).status_code == 200
    created = post(staff, "/api/tenants/", {"name": "initech", "token_budget": 1000, "budget_period": "day"})
    assert created.status_code == 201
    assert AuditLogEntry.objects.filter(action="tenant.updated", tenant=globex).exists()
    assert AuditLogEntry.objects.filter(action="tenant.created", target_label="initech").exists()


def test_a_tenant_admin_manages_members_but_not_their_own_membership(acme: Tenant, acme_admin: Client) -> None:
    person("bob")
    added = post(acme_admin, f"/api/tenants/{acme.pk}/members/", {"user": "bob", "role": "member"})
    assert added.status_code == 201
    bob_url = f"/api/tenants/{acme.pk}/members/{added.json()['id']}/"
    assert patch(acme_admin, bob_url, {"role": "admin"}).json()["role"] == "admin"
    own = TenantMembership.objects.get(tenant=acme, user__username="alice")
    assert acme_admin.delete(f"/api/tenants/{acme.pk}/members/{own.pk}/").status_code == 403
    assert acme_admin.delete(bob_url).status_code == 204
    assert [entry.action for entry in AuditLogEntry.objects.filter(tenant=acme).order_by("id")][-3:] == [
        "member.added",
        "member.role_changed",
        "member.removed",
    ]


def test_a_plain_member_sees_the_tenant_but_manages_nothing(acme: Tenant) -> None:
    user = person("carol")
    add_member(tenant=acme, user=user, role="member")
    make_api_key(acme)
    client = client_for(user)
    assert client.get(f"/api/tenants/{acme.pk}/").status_code == 200
    assert client.get("/api/keys/").json()["results"] == []
    assert client.get(f"/api/tenants/{acme.pk}/members/").status_code == 403
    assert post(client, "/api/keys/", {"tenant": acme.pk, "name": "x"}).status_code == 403


def test_the_audit_log_shows_a_tenant_admin_only_their_tenants(
    acme: Tenant, globex: Tenant, acme_admin: Client
) -> None:
    post(acme_admin, "/api/keys/", {"tenant": acme.pk, "name": "mine"})
    staff = client_for(person("root", is_staff=True, is_superuser=True))
    post(staff, "/api/keys/", {"tenant": globex.pk, "name": "theirs"})
    labels = [entry["target_label"] for entry in acme_admin.get("/api/audit-log/").json()["results"]]
    assert any("mine" in label for label in labels)
    assert not any("theirs" in label for label in labels)


@pytest.mark.parametrize("path", ["/api/audit-log/", "/api/keys/"])
def test_a_tenant_filter_past_64_bit_ids_is_an_empty_page_not_a_500(acme: Tenant, path: str) -> None:
    # Found by the management API fuzzer (tests/fuzz/test_fuzz_management_api.py), for the
    # audit log first and for the keys later (tenant=251913740685223493632).
    staff = client_for(person("root", is_staff=True, is_superuser=True))
    assert post(staff, "/api/keys/", {"tenant": acme.pk, "name": "k"}).status_code == 201  # a key, audited
    answer = staff.get(path, {"tenant": "251913740685223493632"})
    assert (answer.status_code, answer.json()["results"]) == (200, [])
    assert len(staff.get(path, {"tenant": str(acme.pk)}).json()["results"]) == 1
    assert staff.get(path, {"tenant": "²"}).status_code == 200


def test_a_personal_admin_token_authenticates_and_an_inference_key_does_not(acme: Tenant) -> None:
    user = person("dave")
    add_member(tenant=acme, user=user, role="admin")
    token = create_admin_token(user=user, name="laptop")
    _, inference_secret = make_api_key(acme)
    anonymous = Client()
    ok = anonymous.get("/api/keys/", HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1
    refused = anonymous.get("/api/keys/", HTTP_AUTHORIZATION=f"Bearer {inference_secret}")
    assert refused.status_code == 401
    assert "Inference API keys are not accepted" in refused.json()["detail"]
    revoke_admin_token(token=token.token)
    assert anonymous.get("/api/keys/", HTTP_AUTHORIZATION=f"Bearer {token.secret}").status_code == 401


def test_anyone_signed_out_is_refused() -> None:
    assert Client().get("/api/keys/").status_code == 401


def test_a_person_creates_their_own_admin_token_and_sees_its_secret_once() -> None:
    client = client_for(person("erin"))
    created = post(client, "/api/admin-tokens/", {"name": "cli"})
    assert created.status_code == 201 and created.json()["secret"].startswith("oat_")
    listed = client.get("/api/admin-tokens/").content.decode()
    assert created.json()["secret"] not in listed


def test_the_openapi_schema_documents_the_management_api() -> None:
    staff = client_for(person("root", is_staff=True))
    response = staff.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/keys/", "/api/keys/{id}/rotate/", "/api/tenants/{tenant_pk}/members/", "/api/audit-log/"):
        assert path in paths
