"""A worker killed while Redis admits a request (the slot taken, the reply not yet read) leaves
that request in its in-flight journal: the next start writes its interrupted record and gives
the slot back, instead of the slot staying taken until its lease ends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from accounts import admission as admission_module
from accounts.admission import AdmissionController
from accounts.authenticated_key import AuthenticatedKey, Limits
from accounts.errors import RateLimited
from accounts.limit_store import AdmissionPlan, Verdict
from accounts.memory_limit_store import MemoryLimitStore
from compat_api.request_lifecycle import RequestLifecycle
from usage import usage_meter
from usage.interrupted_requests import adopt_interrupted_requests
from usage.usage_inflight_journal import InFlightJournal

DATABASE = "test-killed-admission"
KEY = AuthenticatedKey(
    key_id=71,
    key_name="ci",
    key_prefix="oar_kill0001",
    tenant_id=72,
    tenant_name="acme",
    key_limits=Limits(max_concurrent=1),
    tenant_limits=Limits(),
)


class KeyAuthentication:
    async def authenticate(self, request: Any) -> tuple[None, AuthenticatedKey]:
        return None, KEY


class ChatLikeView:
    authentication_classes = [KeyAuthentication]
    usage_endpoint = "chat"


class ReplyNeverReadStore(MemoryLimitStore):
    """Takes the slot, then the worker dies before it reads the reply."""

    def __init__(self) -> None:
        super().__init__()
        self.taken = asyncio.Event()

    async def admit(self, plan: AdmissionPlan) -> Verdict:
        verdict = await super().admit(plan)
        if not self.taken.is_set():
            self.taken.set()
            await asyncio.Event().wait()  # the kill: nothing after this runs
        return verdict


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"content-type", b"application/json")],
        "query_string": b"",
    }


async def _never(_: Any = None) -> dict[str, Any]:
    await asyncio.Event().wait()
    return {}


async def test_the_next_start_records_the_request_and_frees_its_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.REDIS_URL = ""
    journal = InFlightJournal()
    journal.start(tmp_path, DATABASE, checkpoint_seconds=60.0, fsync=False)
    monkeypatch.setattr(usage_meter, "inflight_journal", journal)
    store = ReplyNeverReadStore()
    monkeypatch.setattr(admission_module.admission_controller, "_fixed_store", store)
    lifecycle = RequestLifecycle(scope=_scope(), receive=_never, request_id="req_killed_admitting")
    serving = asyncio.create_task(lifecycle.begin(ChatLikeView))
    try:
        await asyncio.wait_for(store.taken.wait(), 5)
        journal.sync()
    finally:
        # The worker is dead: its journal file stays as the kill left it, its lock is freed.
        journal.stop(keep_open_entries=True)
    second_request = AdmissionController(store=store)
    with pytest.raises(RateLimited, match="Too many requests in flight"):
        await second_request.admit_call(key=KEY)

    adopted = adopt_interrupted_requests(tmp_path, DATABASE, finished={})
    assert [(draft.request_id, draft.outcome) for draft in adopted.drafts] == [("req_killed_admitting", "interrupted")]
    for abandoned in adopted.admissions:
        await store.release(abandoned.plan, used_tokens=abandoned.used_tokens, only_if_reserved=True)
    admission = await second_request.admit_call(key=KEY)
    await admission.release()
    serving.cancel()
