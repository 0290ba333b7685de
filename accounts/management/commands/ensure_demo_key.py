"""``manage.py ensure_demo_key`` — the demo tenant and key that ``make serve`` prints on first run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.api_key_lifecycle import create_api_key
from accounts.models import Tenant
from accounts.tenant_changes import create_tenant

DEMO_TENANT = "demo"


class Command(BaseCommand):
    help = "Create the demo tenant and print its API key, once; later runs only say how to get another."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8070/v1")
        parser.add_argument("--model", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        base_url, model = options["base_url"], options["model"]
        with transaction.atomic():
            if Tenant.objects.filter(name=DEMO_TENANT).exists():
                self.stdout.write(
                    f"Demo tenant exists; its key was printed when it was created. A new one:\n"
                    f"  .venv/bin/python manage.py create_api_key {DEMO_TENANT} --name another-key\n"
                    f"API: {base_url}  model: {model}"
                )
                return
            tenant = create_tenant(name=DEMO_TENANT)  # audited, like any tenant
            secret = create_api_key(tenant=tenant, name="demo").secret
        # Flush left and complete, so that each block runs exactly as pasted: the curl lines in
        # a shell, the Python lines in `python` or a file (indented Python would not run). A small
        # max_tokens: the demo model can ramble for a minute before it stops on its own.
        self.stdout.write(
            f"""
Created the '{DEMO_TENANT}' tenant. Its API key is shown only this once — store it:

    {secret}

Try it with curl:

curl {base_url}/chat/completions \\
  -H "Authorization: Bearer {secret}" -H "Content-Type: application/json" \\
  -d '{{"model": "{model}", "max_tokens": 50, "messages": [{{"role": "user", "content": "Say hello"}}]}}'

or with the openai SDK (`pip install openai`; .venv/bin/python has it):

from openai import OpenAI
client = OpenAI(base_url="{base_url}", api_key="{secret}")
reply = client.chat.completions.create(model="{model}", max_tokens=50, messages=[{{"role": "user", "content": "Say hello"}}])
print(reply.choices[0].message.content)
"""
        )
