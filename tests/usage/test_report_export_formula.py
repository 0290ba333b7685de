"""CSV exports never hand a spreadsheet a formula chosen by a tenant."""

from __future__ import annotations

import csv
import io
import json

import pytest

from usage.report_export import render_csv, render_json
from usage.usage_queries import UsageRow, UsageTotals


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)"])
def test_a_name_that_looks_like_a_formula_is_exported_as_text(name: str) -> None:
    row = UsageRow(totals=UsageTotals(requests=1), tenant=name)
    exported = list(csv.DictReader(io.StringIO(render_csv([row], "tenant"))))
    assert exported[0]["tenant"] == "'" + name
    # JSON is for programs, not spreadsheets: it keeps the name exactly.
    assert json.loads(render_json([row], "tenant"))[0]["tenant"] == name


def test_ordinary_names_and_numbers_are_untouched() -> None:
    row = UsageRow(totals=UsageTotals(requests=3), tenant="acme")
    exported = list(csv.DictReader(io.StringIO(render_csv([row], "tenant"))))
    assert exported[0]["tenant"] == "acme"
    assert exported[0]["requests"] == "3"
