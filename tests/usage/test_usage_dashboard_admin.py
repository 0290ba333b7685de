"""The admin usage dashboard, rendered with the test client as staff: pages, numbers, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey
from paddler_protocol.token_usage import TokenUsage
from tests.factories import make_api_key, make_tenant
from tests.usage.usage_drafts import make_draft, store
from usage.models import UsageRecord
from usage.usage_record_draft import UsageRecordDraft

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/usage/usagerollup/"


@pytest.fixture
def staff_client(client: Client) -> Client:
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def usage() -> dict[str, object]:
    acme_ci, _ = make_api_key(tenant=make_tenant(name="Acme"), name="acme-ci")
    acme_web, _ = make_api_key(tenant=acme_ci.tenant, name="acme-web")
    globex, _ = make_api_key(tenant=make_tenant(name="Globex"), name="globex-bot")
    now = timezone.now()
    store(
        _draft_of(
            acme_ci,
            request_id="req_acme_1",
            started_at=now,
            tokens=TokenUsage(prompt_tokens=1111, cached_prompt_tokens=33, content_tokens=222, reasoning_tokens=44),
        ),
        _draft_of(
            acme_web,
            request_id="req_acme_2",
            started_at=now - timedelta(days=1),
            tokens=TokenUsage(prompt_tokens=5, content_tokens=6),
        ),
        _draft_of(
            globex,
            request_id="req_globex_1",
            started_at=now,
            model="qwen",
            outcome="client_disconnected",
            usage_source="counted",
            prompt_tokens_known=False,
            tokens=TokenUsage(content_tokens=7),
        ),
    )
    return {"acme_ci": acme_ci, "acme_web": acme_web, "globex": globex}


def _draft_of(key: ApiKey, **fields: Any) -> UsageRecordDraft:
    return make_draft(
        tenant_id=key.tenant_id,
        tenant_name=key.tenant.name,
        api_key_id=key.pk,
        key_name=key.name,
        key_prefix=key.prefix,
        **fields,
    )


def _total(html: str, name: str) -> str:
    found = re.search(rf'data-total="{name}" data-value="(\d+)">', html)
    assert found is not None, name
    return found.group(1)


def test_the_dashboard_shows_the_totals_of_the_range(staff_client: Client, usage: dict[str, object]) -> None:
    response = staff_client.get(DASHBOARD)
    html = response.content.decode()
    assert response.status_code == 200
    assert _total(html, "requests") == "3"
    assert _total(html, "prompt_tokens") == "1116"
    assert _total(html, "cached_prompt_tokens") == "33"
    assert _total(html, "completion_tokens") == "279"
    assert _total(html, "reasoning_tokens") == "44"
    assert _total(html, "total_tokens") == "1395"
    assert 'data-value="1116">1,116<' in html
    assert "1 request(s) ended before Paddler reported usage" in html


def test_the_dashboard_draws_a_chart_with_the_four_token_kinds(staff_client: Client, usage: dict[str, object]) -> None:
    html = staff_client.get(DASHBOARD).content.decode()
    assert html.count("<polyline") == 4
    today = timezone.localdate().isoformat()
    assert f"{today} prompt: 1,111" in html
    assert f"{today} cached prompt: 33" in html


def test_the_dashboard_lists_top_tenants_and_keys(staff_client: Client, usage: dict[str, object]) -> None:
    html = staff_client.get(DASHBOARD).content.decode()
    top_tenants = html.split('id="usage-top-tenants"')[1].split("</table>")[0]
    assert top_tenants.index("Acme") < top_tenants.index("Globex")
    top_keys = html.split('id="usage-top-keys"')[1].split("</table>")[0]
    assert top_keys.index("acme-ci") < top_keys.index("acme-web") < top_keys.index("globex-bot")


def test_a_tenant_drills_down_to_its_keys(staff_client: Client, usage: dict[str, object]) -> None:
    acme = usage["acme_ci"]
    html = staff_client.get(DASHBOARD, {"tenant": acme.tenant_id}).content.decode()  # type: ignore[attr-defined]
    table = html.split('id="usage-table"')[1].split("</table>")[0]
    assert "acme-ci" in table and "acme-web" in table and "globex" not in table
    assert _total(html, "requests") == "2"


def test_a_key_drills_down_to_its_requests(staff_client: Client, usage: dict[str, object]) -> None:
    key = usage["acme_ci"]
    response = staff_client.get(DASHBOARD, {"tenant": key.tenant_id, "key": key.pk})  # type: ignore[attr-defined]
    requests = response.content.decode().split('id="usage-requests"')[1].split("</table>")[0]
    assert "req_acme_1" in requests and "req_acme_2" not in requests


def test_an_unknown_prompt_is_shown_as_unknown_in_the_request_list(
    staff_client: Client, usage: dict[str, object]
) -> None:
    key = usage["globex"]
    html = staff_client.get(DASHBOARD, {"key": key.pk}).content.decode()  # type: ignore[attr-defined]
    requests = html.split('id="usage-requests"')[1].split("</table>")[0]
    assert "unknown" in requests and "client_disconnected" in requests


def test_filters_narrow_the_numbers(staff_client: Client, usage: dict[str, object]) -> None:
    html = staff_client.get(DASHBOARD, {"model": "qwen"}).content.decode()
    assert _total(html, "requests") == "1"
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    html = staff_client.get(DASHBOARD, {"since": yesterday, "until": yesterday}).content.decode()
    assert _total(html, "prompt_tokens") == "5"


def test_the_csv_export_holds_the_filtered_table(staff_client: Client, usage: dict[str, object]) -> None:
    response = staff_client.get(DASHBOARD + "export.csv", {"group_by": "key"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["key"], row["requests"], row["total_tokens"]) for row in rows] == [
        ("acme-ci", "1", "1377"),
        ("acme-web", "1", "11"),
        ("globex-bot", "1", "7"),
    ]


def test_records_and_the_record_list_stay_readable_after_the_key_is_deleted(
    staff_client: Client, usage: dict[str, object]
) -> None:
    key = usage["globex"]
    key.tenant.delete()  # type: ignore[attr-defined]
    html = staff_client.get(DASHBOARD).content.decode()
    assert "Globex" in html
    response = staff_client.get("/admin/usage/usagerecord/")
    assert response.status_code == 200 and "req_globex_1" in response.content.decode()
    assert UsageRecord.objects.count() == 3


def test_the_dashboard_is_for_staff_only(client: Client, usage: dict[str, object]) -> None:
    client.defaults["HTTP_HOST"] = "localhost"
    assert client.get(DASHBOARD).status_code == 302
    client.force_login(User.objects.create_user("someone", password="pw"))
    assert client.get(DASHBOARD).status_code == 302
