"""A paginator that stops counting at a cap: the admin list of millions of usage records.

Django's changelist counts the whole filtered table on every page (``SELECT COUNT(*)``), which
takes seconds over ten million records. Counting at most ``CAP + 1`` rows is a bounded
``COUNT(*)`` over a ``LIMIT`` subquery; the list then pages through the newest ``CAP`` rows of
the filter, and the dashboard (which reads rollups) is where the full totals live.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

CAP = 10_000


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    # The admin's changelist pages a queryset.
    object_list: QuerySet[Any]

    @cached_property
    def count(self) -> int:
        # Unordered: the database may stop at the first CAP + 1 matches in any order.
        return min(self.object_list.order_by()[: CAP + 1].count(), CAP)
