"""Reports agree with the records that real requests left: usage_report, the admin CSV export
and the usage API show the same numbers as the sum of the key's records."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openai
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count, Sum
from django.test import Client

from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content, reasoning_then_content, slow_stream
from tests.usage.record_polling import wait_for_records
from usage.models import UsageRecord

USER = [{"role": "user", "content": "Hi"}]
COUNTERS = (
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "content_tokens",
    "reasoning_tokens",
    "tool_call_tokens",
    "undeterminable_tokens",
)


def _make_requests(client: openai.OpenAI, fake: FakePaddlerServer) -> None:
    fake.script(
        plain_content("a", "b", "c", prompt_tokens=17), reasoning_then_content(["hm", "m"], ["ok"], prompt_tokens=40)
    )
    client.chat.completions.create(model="default", messages=USER)
    client.responses.create(model="default", input="Hi", store=False)
    fake.script(slow_stream(100, 0.05))
    stream = client.chat.completions.create(model="default", messages=USER, stream=True)
    chunks = iter(stream)
    next(chunks), next(chunks), next(chunks)
    stream.close()


def _record_sums(key_id: int) -> dict[str, int]:
    sums = UsageRecord.objects.filter(api_key_id=key_id).aggregate(
        requests=Count("pk"), **{name: Sum(name) for name in COUNTERS}
    )
    return {**sums, "total_tokens": sums["prompt_tokens"] + sums["completion_tokens"]}


def test_every_report_shows_the_sums_of_the_records(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer, api_key: tuple[Any, str]
) -> None:
    key = api_key[0]
    _make_requests(openai_client, fake_paddler)
    records = wait_for_records(api_key_ids=[key.pk], count=3)
    assert {record.outcome for record in records} == {"completed", "client_disconnected"}
    expected = _record_sums(key.pk)
    # 17 + 40 reported, plus the disconnected stream's prompt estimated at admission ("Hi": 1).
    assert expected["requests"] == 3 and expected["prompt_tokens"] == 58

    out = io.StringIO()
    call_command("usage_report", "--group-by", "key", "--format", "json", stdout=out)
    [reported] = [row for row in json.loads(out.getvalue()) if row["key_prefix"] == key.prefix]
    assert reported == {"key": key.name, "key_prefix": key.prefix, **expected}

    admin = Client(HTTP_HOST="localhost")
    admin.force_login(User.objects.create_superuser("usage-admin", "a@example.com", "pw"))
    export = admin.get("/admin/usage/usagerollup/export.csv", {"group_by": "key", "tenant": key.tenant_id})
    [row] = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert row == {"key": key.name, "key_prefix": key.prefix, **{name: str(value) for name, value in expected.items()}}

    [api_row] = admin.get("/api/usage/", {"group_by": "tenant", "tenant": key.tenant_id}).json()
    assert api_row == {"tenant": key.tenant.name, **expected}
