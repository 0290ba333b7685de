"""The Prometheus metrics of the API, and the few calls that feed them.

Every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` when that is set (the worker
pool sets it: oarlock/worker_pool.py) and ``/metrics`` sums the files of all workers; without
it (one plain ``daphne`` process, tests) the samples live in this process.

The request path feeds them from one place, the usage meter's end-of-request summary
(``observe_request``), plus the in-flight gauge around the meter's life; the usage writer
reports its queue from its own thread. Names and labels are documented in docs/metrics.md.
Without ``OARLOCK_METRICS_TOKEN`` nothing reads them, so nothing is recorded either.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

from accounts.errors import AdmissionUnavailable, BudgetExhausted, RateLimited
from paddler_protocol.errors import UpstreamError
from usage.usage_record_draft import UsageRecordDraft

# Milliseconds to minutes: a refused request takes under a millisecond, a long generation minutes.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)

REQUESTS = Counter("oarlock_requests", "Finished /v1 inference requests.", ["endpoint", "model", "status", "outcome"])
TOKENS = Counter("oarlock_tokens", "Tokens relayed, by kind.", ["endpoint", "model", "kind"])
LATENCY = Histogram(
    "oarlock_request_duration_seconds",
    "Time from authentication to the end of the response.",
    ["endpoint", "streamed"],
    buckets=LATENCY_BUCKETS,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "oarlock_time_to_first_token_seconds",
    "Time from authentication to the first upstream token.",
    ["endpoint"],
    buckets=TTFT_BUCKETS,
)
IN_FLIGHT = Gauge(
    "oarlock_requests_in_flight",
    "Inference requests being served now.",
    ["endpoint"],
    multiprocess_mode="livesum",
)
UPSTREAM_ERRORS = Counter("oarlock_upstream_errors", "Requests failed by the upstream, by kind.", ["kind"])
ADMISSION_REJECTIONS = Counter(
    "oarlock_admission_rejections", "Requests refused by a limit or budget, by limit.", ["limit"]
)
USAGE_QUEUE_DEPTH = Gauge(
    "oarlock_usage_writer_queue_depth", "Usage records waiting to be committed.", multiprocess_mode="livesum"
)
USAGE_LAG = Gauge(
    "oarlock_usage_writer_lag_seconds", "Age of the oldest uncommitted usage record.", multiprocess_mode="livemax"
)
USAGE_DEAD_LETTERS = Counter(
    "oarlock_usage_dead_letters", "Usage records the database refused, moved to the dead-letter file."
)

TOKEN_KINDS = ("prompt", "cached", "completion", "reasoning")
HookArguments = ParamSpec("HookArguments")


def _when_served(hook: Callable[HookArguments, None]) -> Callable[HookArguments, None]:
    """Skip the hook when /metrics is off (no token): samples nobody can read cost CPU."""

    @functools.wraps(hook)
    def guarded(*args: HookArguments.args, **kwargs: HookArguments.kwargs) -> None:
        if settings.OARLOCK_METRICS_TOKEN:
            hook(*args, **kwargs)

    return guarded


@functools.lru_cache(maxsize=4096)
def _child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once per label set (it validates and locks)."""
    return metric.labels(*labels)


@_when_served
def request_started(endpoint: str) -> None:
    _child(IN_FLIGHT, endpoint).inc()


@_when_served
def observe_request(record: UsageRecordDraft, error: BaseException | str | None) -> None:
    """Count one finished request from its usage record (and the error that ended it)."""
    # Only a model that resolved to an upstream is a label: a refused request's model name is
    # whatever the client sent, and every new label value would be a new series forever.
    endpoint, model = record.endpoint, (record.model if record.upstream else "") or "-"
    _child(IN_FLIGHT, endpoint).dec()
    _child(REQUESTS, endpoint, model, str(record.http_status), record.outcome).inc()
    tokens = record.tokens
    counts = (
        tokens.prompt_tokens if record.prompt_tokens_known else 0,
        tokens.cached_prompt_tokens if record.prompt_tokens_known else 0,
        tokens.completion_tokens,
        tokens.reasoning_tokens,
    )
    for kind, count in zip(TOKEN_KINDS, counts, strict=True):
        if count:
            _child(TOKENS, endpoint, model, kind).inc(count)
    _child(LATENCY, endpoint, "true" if record.streamed else "false").observe(record.duration_ms / 1000)
    if record.time_to_first_token_ms is not None:
        _child(TIME_TO_FIRST_TOKEN, endpoint).observe(record.time_to_first_token_ms / 1000)
    if isinstance(error, UpstreamError):
        UPSTREAM_ERRORS.labels(type(error).__name__).inc()
    elif (limit := _admission_limit(error)) is not None:
        ADMISSION_REJECTIONS.labels(limit).inc()


def _admission_limit(error: BaseException | str | None) -> str | None:
    if isinstance(error, RateLimited):
        return error.limit
    if isinstance(error, BudgetExhausted):
        return "budget"
    if isinstance(error, AdmissionUnavailable):
        return "limit_store_unavailable"
    return None


@_when_served
def usage_writer_backlog(*, pending: int, oldest_age_seconds: float) -> None:
    USAGE_QUEUE_DEPTH.set(pending)
    USAGE_LAG.set(oldest_age_seconds)


@_when_served
def usage_record_dead_lettered() -> None:
    USAGE_DEAD_LETTERS.inc()
