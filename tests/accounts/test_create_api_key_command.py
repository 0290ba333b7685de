from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.api_key_secret import hash_api_key
from accounts.management.commands.ensure_demo_key import DEMO_TENANT
from accounts.models import ApiKey, AuditLogEntry, Tenant

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_prints_the_new_secret_alone_on_the_last_line() -> None:
    lines = run("acme", "--create-tenant", "--name", "ci")
    secret = lines[-1]
    assert secret.startswith("oar_") and " " not in secret
    key = ApiKey.objects.get(name="ci")
    assert key.secret_hash == hash_api_key(secret)
    assert key.tenant.name == "acme"
    assert all(secret not in line for line in lines[:-1])


def test_refuses_an_unknown_tenant_without_create_tenant() -> None:
    with pytest.raises(CommandError, match="does not exist"):
        run("nobody")
    assert not Tenant.objects.exists()


def test_stores_limits_models_and_expiry() -> None:
    run(
        "acme",
        "--create-tenant",
        "--rpm",
        "60",
        "--tpm",
        "1000",
        "--max-concurrent",
        "2",
        "--token-budget",
        "5000",
        "--budget-period",
        "day",
        "--models",
        "qwen3, gemma",
        "--expires-at",
        "2030-01-02T03:04:05+00:00",
    )
    key = ApiKey.objects.get()
    assert (key.rpm, key.tpm, key.max_concurrent, key.token_budget) == (60, 1000, 2, 5000)
    assert key.budget_period == "day"
    assert key.allowed_models == ["qwen3", "gemma"]
    assert key.expires_at.isoformat() == "2030-01-02T03:04:05+00:00"


def test_rejects_a_malformed_expiry_date() -> None:
    with pytest.raises(CommandError, match="ISO 8601"):
        run("acme", "--create-tenant", "--expires-at", "next tuesday")


def test_a_budget_period_needs_a_budget() -> None:
    with pytest.raises(CommandError, match="--token-budget"):
        run("acme", "--create-tenant", "--budget-period", "day")


def test_the_demo_key_is_printed_once_with_usage_examples() -> None:
    first = StringIO()
    call_command("ensure_demo_key", "--model", "gemma-3-270m", stdout=first)
    key = ApiKey.objects.get(tenant__name="demo")
    secrets = [word for word in first.getvalue().split() if word.startswith("oar_")]
    assert secrets and hash_api_key(secrets[0]) == key.secret_hash
    assert "curl http://127.0.0.1:8070/v1/chat/completions" in first.getvalue()
    assert '"model": "gemma-3-270m"' in first.getvalue()
    second = StringIO()
    call_command("ensure_demo_key", stdout=second)
    assert "oar_" not in second.getvalue().replace("create_api_key", "")
    assert ApiKey.objects.filter(tenant__name="demo").count() == 1


def test_a_tenant_created_by_the_command_has_its_audit_entry() -> None:
    run("audited", "--create-tenant")
    tenant = Tenant.objects.get(name="audited")
    assert AuditLogEntry.objects.filter(action="tenant.created", tenant=tenant).count() == 1


def test_the_demo_tenant_has_its_audit_entry() -> None:
    call_command("ensure_demo_key", "--base-url", "http://127.0.0.1:8070/v1", stdout=StringIO())
    assert AuditLogEntry.objects.filter(action="tenant.created", tenant__name=DEMO_TENANT).count() == 1
