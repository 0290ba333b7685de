"""What one finished request adds to the metrics, and that nothing is recorded without a token."""

from __future__ import annotations

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from accounts.errors import BudgetExhausted, RateLimited
from inference.errors import UpstreamTimeout
from paddler_protocol.token_usage import TokenUsage
from tests.usage.usage_drafts import make_draft
from usage import request_metrics as metrics


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def served() -> object:
    with override_settings(OARLOCK_METRICS_TOKEN="t"):
        yield


def test_a_finished_request_counts_its_tokens_latency_and_outcome(served: object) -> None:
    draft = make_draft(
        model="m-tokens",
        tokens=TokenUsage(prompt_tokens=10, cached_prompt_tokens=4, content_tokens=5, reasoning_tokens=3),
    )
    requests = _value(
        "oarlock_requests_total", endpoint="chat.completions", model="m-tokens", status="200", outcome="completed"
    )
    metrics.request_started("chat.completions")
    metrics.observe_request(draft, None)
    assert (
        _value(
            "oarlock_requests_total", endpoint="chat.completions", model="m-tokens", status="200", outcome="completed"
        )
        == requests + 1
    )
    kinds = {
        kind: _value("oarlock_tokens_total", endpoint="chat.completions", model="m-tokens", kind=kind)
        for kind in ("prompt", "cached", "completion", "reasoning")
    }
    assert kinds == {"prompt": 10, "cached": 4, "completion": 8, "reasoning": 3}
    assert _value("oarlock_request_duration_seconds_sum", endpoint="chat.completions", streamed="false") >= 0.12


def test_refusals_are_counted_by_limit_and_upstream_failures_by_kind(served: object) -> None:
    before = {
        limit: _value("oarlock_admission_rejections_total", limit=limit)
        for limit in ("concurrency", "tokens", "budget")
    }
    timeouts = _value("oarlock_upstream_errors_total", kind="UpstreamTimeout")
    rejected = make_draft(outcome="rejected", http_status=429)
    for error in (
        RateLimited("x", retry_after=1, limit="concurrency"),
        RateLimited("x", retry_after=1, limit_kind="tokens"),
        BudgetExhausted("x"),
    ):
        metrics.request_started("chat.completions")
        metrics.observe_request(rejected, error)
    metrics.request_started("chat.completions")
    metrics.observe_request(make_draft(outcome="failed", http_status=504), UpstreamTimeout("slow"))
    assert {limit: _value("oarlock_admission_rejections_total", limit=limit) - before[limit] for limit in before} == {
        "concurrency": 1,
        "tokens": 1,
        "budget": 1,
    }
    assert _value("oarlock_upstream_errors_total", kind="UpstreamTimeout") == timeouts + 1


def test_a_model_name_that_resolved_to_no_upstream_is_not_a_label(served: object) -> None:
    before = _value("oarlock_requests_total", endpoint="chat.completions", model="-", status="404", outcome="rejected")
    metrics.request_started("chat.completions")
    metrics.observe_request(
        make_draft(model="made-up-by-a-client", upstream="", outcome="rejected", http_status=404), None
    )
    assert (
        _value("oarlock_requests_total", endpoint="chat.completions", model="-", status="404", outcome="rejected")
        == before + 1
    )
    assert (
        _value(
            "oarlock_requests_total",
            endpoint="chat.completions",
            model="made-up-by-a-client",
            status="404",
            outcome="rejected",
        )
        == 0
    )


def test_nothing_is_recorded_when_metrics_are_off() -> None:
    with override_settings(OARLOCK_METRICS_TOKEN=""):
        before = _value(
            "oarlock_requests_total", endpoint="responses", model="m-off", status="200", outcome="completed"
        )
        metrics.observe_request(make_draft(endpoint="responses", model="m-off"), None)
        assert (
            _value("oarlock_requests_total", endpoint="responses", model="m-off", status="200", outcome="completed")
            == before
            == 0
        )
