"""``manage.py add_member TENANT USERNAME [--role member|admin] [--create-user --email E]``.

Idempotent: run it twice and the second run says there was nothing to do. A new user's
password comes from ``OARLOCK_NEW_USER_PASSWORD`` (never from the command line, where it would
land in shell history and the process list).
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Tenant, TenantMembership, TenantRole
from accounts.tenant_membership import add_member, change_member_role


class Command(BaseCommand):
    help = "Add a person to a tenant (member or admin), optionally creating the user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="Tenant name.")
        parser.add_argument("username")
        parser.add_argument("--role", choices=TenantRole.values, default=TenantRole.MEMBER)
        parser.add_argument("--create-user", action="store_true",
                            help="Create the user if missing (password from OARLOCK_NEW_USER_PASSWORD).")
        parser.add_argument("--email", default="", help="E-mail of a user created with --create-user.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(name=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant named {options['tenant']!r}.")
        with transaction.atomic():
            user = self._user(options["username"], create=options["create_user"], email=options["email"])
            membership = TenantMembership.objects.filter(tenant=tenant, user=user).first()
            role = options["role"]
            if membership is None:
                add_member(tenant=tenant, user=user, role=role)
                self.stdout.write(f"Added {user.get_username()} to {tenant.name} as {role}.")
            elif membership.role != role:
                change_member_role(membership=membership, role=role)
                self.stdout.write(f"Changed {user.get_username()}'s role in {tenant.name} to {role}.")
            else:
                self.stdout.write(f"{user.get_username()} is already {role} of {tenant.name}: nothing to do.")

    def _user(self, username: str, *, create: bool, email: str) -> Any:
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is not None:
            return user
        if not create:
            raise CommandError(f"No user named {username!r} (add --create-user to create one).")
        password = os.environ.get("OARLOCK_NEW_USER_PASSWORD", "")
        if not password:
            raise CommandError("--create-user needs the new password in OARLOCK_NEW_USER_PASSWORD.")
        user = user_model.objects.create_user(username, email=email, password=password)
        self.stdout.write(f"Created user {username}.")
        return user
