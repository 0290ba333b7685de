"""``manage.py add_member``: adds, changes a role, creates a user when asked; idempotent."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import AuditLogEntry, Tenant, TenantMembership

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def test_add_member_creates_the_user_adds_them_and_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = Tenant.objects.create(name="engineering")
    monkeypatch.setenv("OARLOCK_NEW_USER_PASSWORD", "s3cret-enough")
    first = _run("engineering", "carol", "--create-user", "--email", "carol@example.test")
    assert first == "Created user carol.\nAdded carol to engineering as member.\n"
    carol = get_user_model().objects.get(username="carol")
    assert carol.email == "carol@example.test"
    assert carol.check_password("s3cret-enough")
    assert _run("engineering", "carol", "--create-user") == "carol is already member of engineering: nothing to do.\n"
    assert _run("engineering", "carol", "--role", "admin") == "Changed carol's role in engineering to admin.\n"
    assert TenantMembership.objects.get(user=carol, tenant=tenant).role == "admin"
    assert list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "member.added", "member.role_changed",
    ]


def test_add_member_refuses_what_it_cannot_do(monkeypatch: pytest.MonkeyPatch) -> None:
    Tenant.objects.create(name="engineering")
    with pytest.raises(CommandError, match="No tenant"):
        _run("nope", "carol")
    with pytest.raises(CommandError, match="--create-user"):
        _run("engineering", "carol")
    monkeypatch.delenv("OARLOCK_NEW_USER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="OARLOCK_NEW_USER_PASSWORD"):
        _run("engineering", "carol", "--create-user")
    assert not get_user_model().objects.filter(username="carol").exists()
