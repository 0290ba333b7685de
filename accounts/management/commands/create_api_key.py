"""``manage.py create_api_key TENANT …`` — prints the new secret alone on the last line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.api_key_lifecycle import create_api_key
from accounts.models import BudgetPeriod, Tenant
from accounts.tenant_changes import create_tenant


class Command(BaseCommand):
    help = "Create an API key for a tenant. The secret is printed once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="Tenant name.")
        parser.add_argument("--create-tenant", action="store_true", help="Create the tenant if missing.")
        parser.add_argument("--name", default="default", help="Key name (default: %(default)s).")
        parser.add_argument("--rpm", type=int, help="Requests per minute.")
        parser.add_argument("--tpm", type=int, help="Tokens per minute.")
        parser.add_argument("--max-concurrent", type=int, help="Requests in flight.")
        parser.add_argument("--token-budget", type=int, help="Tokens per budget period.")
        parser.add_argument("--budget-period", choices=BudgetPeriod.values, help="day, week or month.")
        parser.add_argument("--models", help="Comma-separated allowed models (default: all).")
        parser.add_argument("--expires-at", help="ISO 8601 date-time when the key stops working.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["budget_period"] and options["token_budget"] is None:
            raise CommandError("--budget-period needs --token-budget.")
        for name in ("rpm", "tpm", "max_concurrent", "token_budget"):
            if options[name] is not None and options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must not be negative.")
        with transaction.atomic():
            tenant = self._tenant(options["tenant"], create=options["create_tenant"])
            limits: dict[str, Any] = {
                name: options[name]
                for name in ("rpm", "tpm", "max_concurrent", "token_budget", "budget_period")
                if options[name] is not None
            }
            if options["models"]:
                limits["allowed_models"] = [m.strip() for m in options["models"].split(",") if m.strip()]
            try:
                created = create_api_key(
                    tenant=tenant,
                    name=options["name"],
                    expires_at=self._expiry(options["expires_at"]),
                    **limits,
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
        key = created.api_key
        self.stdout.write(f"Created API key '{key.name}' ({key.prefix}…) for tenant '{tenant.name}'.")
        self.stdout.write("The secret is shown only once; store it now:")
        self.stdout.write(created.secret)

    def _tenant(self, name: str, *, create: bool) -> Tenant:
        tenant = Tenant.objects.filter(name=name).first()
        if tenant is not None:
            return tenant
        if not create:
            raise CommandError(f"Tenant '{name}' does not exist (use --create-tenant to create it).")
        # Through the service, so the new tenant has its audit entry like one made in the admin.
        return create_tenant(name=name)

    def _expiry(self, raw: str | None) -> datetime | None:
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as error:
            raise CommandError(f"--expires-at is not an ISO 8601 date-time: {raw!r}") from error
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value
