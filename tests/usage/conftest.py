"""Usage tests count rows globally, so each starts from empty usage tables.

A live server from an earlier acceptance test may commit a request's record after that test's
database flush (the writer is asynchronous by design); such a straggler must not leak into
these counts.
"""

from __future__ import annotations

import pytest

from usage.models import UsageRecord, UsageRollup


@pytest.fixture(autouse=True)
def _empty_usage_tables(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        UsageRecord.objects.all().delete()
        UsageRollup.objects.all().delete()
