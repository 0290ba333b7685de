"""The raw record list stays cheap over millions of rows: exact search, capped count."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.usage.usage_drafts import make_draft, store
from usage import capped_count_paginator
from usage.capped_count_paginator import CappedCountPaginator
from usage.models import UsageRecord

pytestmark = pytest.mark.django_db

RECORDS = "/admin/usage/usagerecord/"


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def test_searching_finds_a_record_by_its_exact_request_id(staff_client: Client) -> None:
    store(make_draft(request_id="req_wanted"), make_draft(request_id="req_wanted_not"))
    html = staff_client.get(RECORDS, {"q": "req_wanted"}).content.decode()
    assert "req_wanted<" in html or 'req_wanted"' in html
    assert "req_wanted_not" not in html


def test_the_count_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    store(*(make_draft() for _ in range(5)))
    monkeypatch.setattr(capped_count_paginator, "CAP", 3)
    paginator = CappedCountPaginator(UsageRecord.objects.order_by("-started_at"), 2)
    assert (paginator.count, paginator.num_pages) == (3, 2)


def test_the_record_list_has_no_add_change_or_delete(staff_client: Client) -> None:
    store(make_draft(request_id="req_ro"))
    record = UsageRecord.objects.get(request_id="req_ro")
    assert staff_client.get(RECORDS + "add/").status_code == 403
    assert staff_client.post(RECORDS + f"{record.pk}/delete/").status_code == 403
    assert staff_client.get(RECORDS + f"{record.pk}/change/").status_code == 200  # a read-only view
