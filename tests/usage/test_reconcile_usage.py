"""``reconcile_usage`` (and every writer start) turns a dead process's open in-flight entries
into interrupted records, exactly once, and leaves a live process's journal alone."""

from __future__ import annotations

import fcntl
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from tests.usage.usage_drafts import make_draft
from usage import dead_writer_replay
from usage.models import UsageRecord
from usage.usage_journal import database_key

pytestmark = pytest.mark.django_db(transaction=True)


def _write_inflight(directory: Path, name: str, lines: list[dict[str, object]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.lock").touch()
    path = directory / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _finished_draft(request_id: str) -> dict[str, object]:
    return make_draft(request_id=request_id, tenant_id=3, api_key_id=4).to_json()


def _entry(request_id: str) -> dict[str, object]:
    return {
        "o": {
            "request_id": request_id,
            "endpoint": "responses",
            "tenant_id": 3,
            "api_key_id": 4,
            "model": "default",
            "upstream": "default",
            "streamed": True,
            "started_at": timezone.now().isoformat(),
            "prompt_estimate": 25,
            "tenant_name": "acme",
            "key_name": "ci",
            "key_prefix": "oar_x",
            "admissions": [],
            "counted": [0, 0, 0, 0],
            "checkpointed_at": 0.0,
        }
    }


def test_open_entries_of_a_dead_process_become_interrupted_records_once(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path  # type: ignore[attr-defined]
    directory = tmp_path / "usage-journal" / "inflight"
    database = database_key(connections["default"].settings_dict)
    _write_inflight(
        directory,
        f"{database}-inflight-1-dead",
        [
            _entry("req_test_open"),
            _entry("req_test_closed"),
            {"p": ["req_test_open", 7, 2, 0, 1, 1.0]},
            {"c": ["req_test_closed"]},
            {"p": ["req_test_open", 9, 2, 0, 1, 2.0]},
        ],
    )
    output = io.StringIO()
    call_command("reconcile_usage", stdout=output)
    record = UsageRecord.objects.get()
    assert record.request_id == "req_test_open"
    assert (record.outcome, record.content_tokens, record.reasoning_tokens, record.undeterminable_tokens) == (
        "interrupted",
        9,
        2,
        1,
    )
    assert (record.prompt_tokens, record.prompt_tokens_estimated, record.completion_tokens) == (25, True, 12)
    assert "1 usage records written" in output.getvalue()
    assert not list(directory.glob("*.jsonl"))

    # The same entry again (a journal restored from a backup, say): no second record.
    _write_inflight(directory, f"{database}-inflight-2-dead", [_entry("req_test_open")])
    call_command("reconcile_usage", stdout=io.StringIO())
    assert UsageRecord.objects.count() == 1


def test_a_live_process_s_journal_is_left_alone(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path  # type: ignore[attr-defined]
    directory = tmp_path / "usage-journal" / "inflight"
    database = database_key(connections["default"].settings_dict)
    path = _write_inflight(directory, f"{database}-inflight-3-live", [_entry("req_test_live")])
    with (directory / f"{database}-inflight-3-live.lock").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        call_command("reconcile_usage", stdout=io.StringIO())
    assert not UsageRecord.objects.exists()
    assert path.exists()


def test_a_request_recorded_but_not_released_before_the_death_only_has_its_admission_settled(
    settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.VAR_DIR = tmp_path  # type: ignore[attr-defined]
    settled: list[tuple[str, int]] = []
    monkeypatch.setattr(
        dead_writer_replay,
        "settle_abandoned_admissions",
        lambda items: settled.extend((item.plan.admission_id, item.used_tokens) for item in items) or len(items),
    )
    plan = {
        "admission_id": "a1",
        "tenant_id": 3,
        "tokens": 500,
        "lease_seconds": 900,
        "scopes": [{"scope": "key", "scope_id": 4, "token_budget": 1000, "budget_label": "day:2026-12-05"}],
    }
    recorded, released, open_ = _entry("req_test_recorded"), _entry("req_test_released"), _entry("req_test_open")
    for entry, admission_id in ((recorded, "a1"), (released, "a2"), (open_, "a3")):
        entry["o"]["admissions"] = [{**plan, "admission_id": admission_id}]  # type: ignore[index]
    directory = tmp_path / "usage-journal" / "inflight"
    database = database_key(connections["default"].settings_dict)
    _write_inflight(
        directory,
        f"{database}-inflight-4-dead",
        [
            recorded,
            released,
            open_,
            {"r": [["req_test_recorded", 40]]},  # its record was committed; the kill came before the release
            # Released; the kill came before its record was journalled: the finished record lands.
            {"x": "req_test_released", "d": {**_finished_draft("req_test_released")}},
            {"p": ["req_test_open", 5, 0, 0, 0, 1.0]},
        ],
    )
    call_command("reconcile_usage", stdout=io.StringIO())
    assert set(UsageRecord.objects.values_list("request_id", flat=True)) == {"req_test_released", "req_test_open"}
    assert sorted(settled) == [("a1", 40), ("a3", 30)]  # 25 estimated prompt + 5 relayed
    assert UsageRecord.objects.get(request_id="req_test_released").outcome == "completed"
