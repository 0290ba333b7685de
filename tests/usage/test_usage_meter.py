"""The meter: reported vs counted usage, first finish wins, one draft per request."""

from __future__ import annotations

import pytest

from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    PaddlerLine,
    ReasoningToken,
    ToolCallToken,
    UndeterminableToken,
)
from paddler_protocol.token_usage import TokenUsage
from usage import usage_meter
from usage.usage_meter import UsageMeter
from usage.usage_record_draft import UsageRecordDraft

DONE_USAGE = TokenUsage(prompt_tokens=21, cached_prompt_tokens=0, content_tokens=2, reasoning_tokens=1)


class CapturingWriter:
    def __init__(self) -> None:
        self.drafts: list[UsageRecordDraft] = []

    def submit(self, draft: UsageRecordDraft) -> None:
        self.drafts.append(draft)


@pytest.fixture
def writer(monkeypatch: pytest.MonkeyPatch) -> CapturingWriter:
    capturing = CapturingWriter()
    monkeypatch.setattr(usage_meter, "usage_writer", capturing)
    return capturing


def _meter() -> UsageMeter:
    meter = UsageMeter("req_1", "chat.completions", 7, 8, tenant_name="acme", key_name="ci", key_prefix="oar_x")
    meter.set_target(model="default", upstream="paddler-1", streamed=True)
    return meter


def _line(message: object) -> PaddlerLine:
    return PaddlerLine(message, "paddler-req", "agent-1")  # type: ignore[arg-type]


def test_a_done_makes_the_record_reported_with_paddlers_numbers(writer: CapturingWriter) -> None:
    meter = _meter()
    for message in (ReasoningToken("hm"), ContentToken("a"), ContentToken("b"), Done(DONE_USAGE)):
        meter.observe(_line(message))
    meter.finish(outcome="completed", http_status=200)
    [draft] = writer.drafts
    assert (draft.usage_source, draft.prompt_tokens_known, draft.tokens) == ("reported", True, DONE_USAGE)
    assert (draft.paddler_request_id, draft.generated_by, draft.model, draft.streamed) == (
        "paddler-req",
        "agent-1",
        "default",
        True,
    )


def test_without_a_done_the_relayed_token_lines_are_counted_and_the_prompt_is_unknown(
    writer: CapturingWriter,
) -> None:
    meter = _meter()
    for message in (
        ReasoningToken("r"),
        ContentToken("a"),
        ContentToken("b"),
        ToolCallToken("{"),
        UndeterminableToken("?"),
    ):
        meter.observe(_line(message))
    meter.finish(outcome="client_disconnected", http_status=499, error="ClientDisconnected")
    [draft] = writer.drafts
    assert draft.usage_source == "counted"
    assert draft.prompt_tokens_known is False
    assert draft.tokens == TokenUsage(content_tokens=2, reasoning_tokens=1, tool_call_tokens=1, undeterminable_tokens=1)
    assert draft.error_class == "ClientDisconnected"


def test_only_the_first_finish_counts(writer: CapturingWriter) -> None:
    meter = _meter()
    first = meter.finish(outcome="completed", http_status=200)
    second = meter.finish(outcome="failed", http_status=500, error=RuntimeError("late"))
    assert second is None
    assert writer.drafts == [first]
    assert meter.finished


def test_a_rejected_request_has_zero_tokens_and_a_known_zero_prompt(writer: CapturingWriter) -> None:
    meter = UsageMeter("req_2", "responses", 7, 8)
    meter.finish(outcome="rejected", http_status=400, error=ValueError("bad"))
    [draft] = writer.drafts
    assert (draft.tokens, draft.prompt_tokens_known, draft.error_class) == (TokenUsage(), True, "ValueError")


def test_the_draft_carries_the_tenant_and_key_names(writer: CapturingWriter) -> None:
    _meter().finish(outcome="completed", http_status=200)
    [draft] = writer.drafts
    assert (draft.tenant_id, draft.tenant_name, draft.api_key_id, draft.key_name, draft.key_prefix) == (
        7,
        "acme",
        8,
        "ci",
        "oar_x",
    )


def test_time_to_first_token_is_unset_until_a_token_arrives(writer: CapturingWriter) -> None:
    _meter().finish(outcome="failed", http_status=503)
    meter = _meter()
    meter.observe(_line(ContentToken("a")))
    meter.finish(outcome="completed", http_status=200)
    assert writer.drafts[0].time_to_first_token_ms is None
    assert writer.drafts[1].time_to_first_token_ms is not None


def test_a_draft_survives_its_journal_round_trip(writer: CapturingWriter) -> None:
    meter = _meter()
    meter.observe(_line(Done(DONE_USAGE)))
    draft = meter.finish(outcome="completed", http_status=200)
    assert draft is not None
    assert UsageRecordDraft.from_json(draft.to_json()) == draft


def test_a_disconnect_after_admission_bills_the_prompt_estimate_and_flags_it(writer: CapturingWriter) -> None:
    meter = _meter()
    meter.admitted(prompt_estimate=40, admission_plans=[])
    meter.observe(_line(ContentToken("a")))
    meter.finish(outcome="client_disconnected", http_status=499, error="ClientDisconnected")
    [draft] = writer.drafts
    assert (draft.tokens.prompt_tokens, draft.prompt_tokens_estimated, draft.prompt_tokens_known) == (40, True, False)
    # The budget settles to the record: prompt estimate plus what was relayed, never 0 prompt.
    assert meter.billed_tokens == 41


def test_a_disconnect_before_any_token_still_bills_the_prompt_estimate(writer: CapturingWriter) -> None:
    meter = _meter()
    meter.admitted(prompt_estimate=12, admission_plans=[])
    meter.finish(outcome="client_disconnected", http_status=499, error="ClientDisconnected")
    assert meter.billed_tokens == 12 and writer.drafts[0].prompt_tokens_estimated


def test_a_done_wins_over_the_estimate(writer: CapturingWriter) -> None:
    meter = _meter()
    meter.admitted(prompt_estimate=999, admission_plans=[])
    meter.observe(_line(Done(DONE_USAGE)))
    meter.finish(outcome="client_disconnected", http_status=499)
    [draft] = writer.drafts
    assert (draft.tokens, draft.prompt_tokens_estimated) == (DONE_USAGE, False)
    assert meter.billed_tokens == DONE_USAGE.total_tokens


def test_an_upstream_refusal_before_any_token_bills_nothing(writer: CapturingWriter) -> None:
    meter = _meter()
    meter.admitted(prompt_estimate=30, admission_plans=[])
    meter.finish(outcome="failed", http_status=503, error="UpstreamOverloaded")
    assert meter.billed_tokens == 0 and not writer.drafts[0].prompt_tokens_estimated


def test_strings_from_the_upstream_are_clipped_to_their_record_columns(writer: CapturingWriter) -> None:
    meter = _meter()
    meter.observe(PaddlerLine(ContentToken("a"), "r" * 500, "agent\n" * 100))  # type: ignore[arg-type]
    meter.finish(outcome="completed", http_status=200)
    [draft] = writer.drafts
    assert (len(draft.paddler_request_id), len(draft.generated_by)) == (64, 200)
