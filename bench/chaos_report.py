"""The chaos run's checks: the clients' own logs against the usage records, Redis and the disk."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench.chaos_client import ChaosRequest, ClientLog
from usage.usage_inflight_journal import read_open_entries

# Request slots and budget reservations, each a zset of admission id → lease deadline.
LEASE_PATTERNS = ("oarlock:limits:*:leases", "oarlock:limits:*:reservations")
BUDGET_PATTERN = "oarlock:limits:*:k{key_id}:budget:*"


@dataclass
class ChaosFigures:
    requests: int = 0
    authenticated: int = 0
    refused_connections: int = 0
    peak_concurrency: int = 0
    client_hang_ups: int = 0
    upstream_drops_planned: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    records: int = 0
    records_matched: int = 0
    missing_records: list[str] = field(default_factory=list)
    unmatched_records: Counter[str] = field(default_factory=Counter)
    token_mismatches: list[str] = field(default_factory=list)
    estimated_prompts: int = 0
    # Leases nobody released: holding a slot now, and already past their deadline (a slot no
    # longer held, but a release that never came all the same). Both fail the run.
    leases_left: int = 0
    leases_left_expired: int = 0
    lease_details: list[str] = field(default_factory=list)
    inflight_entries_left: int = 0
    budget_checked_keys: int = 0
    budget_mismatches: list[str] = field(default_factory=list)
    budget_tokens: int = 0
    hung: int = 0
    dead_letters: int = 0
    events: list[str] = field(default_factory=list)
    settle_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def all_held(self) -> bool:
        return (
            not (
                self.missing_records
                or self.token_mismatches
                or self.leases_left
                or self.inflight_entries_left
                or self.budget_mismatches
                or self.hung
                or self.dead_letters
            )
            and self.records_matched == self.authenticated
        )


def check_run(
    *,
    requests: list[ChaosRequest],
    logs: list[ClientLog],
    var_dir: Path,
    database_url: str,
    redis_url: str,
    checked_keys: set[int],
    key_ids: list[int],
    events: list[str],
    settle_seconds: float,
    checkpoint_seconds: float,
) -> ChaosFigures:
    figures = ChaosFigures(requests=len(requests), events=events, settle_seconds=settle_seconds)
    records = _records(database_url)
    figures.records = len(records)
    figures.outcomes = Counter(f"{row['outcome']}/{row['error_class'] or '-'}" for row in records.values())
    figures.estimated_prompts = sum(1 for row in records.values() if row["prompt_tokens_estimated"])
    figures.peak_concurrency = _peak_concurrency(logs)
    figures.refused_connections = sum(1 for log in logs if not log.request_id and log.error)
    figures.client_hang_ups = sum(1 for log in logs if log.hung_up)
    figures.upstream_drops_planned = sum(1 for request in requests if request.drop_after is not None)
    figures.hung = sum(1 for log in logs if log.hung)
    client_ids = set()
    for request, log in zip(requests, logs, strict=True):
        if not log.request_id or log.status == 401:
            continue
        figures.authenticated += 1
        client_ids.add(log.request_id)
        row = records.get(log.request_id)
        if row is None:
            figures.missing_records.append(f"{log.request_id} (status {log.status}, received {log.received})")
            continue
        figures.records_matched += 1
        problem = _token_problem(request, log, row, checkpoint_seconds)
        if problem:
            figures.token_mismatches.append(f"{log.request_id}: {problem}")
    for request_id, row in records.items():
        if request_id not in client_ids:
            figures.unmatched_records[f"{row['outcome']}/{row['error_class'] or '-'}"] += 1
    _check_redis(figures, redis_url, records, checked_keys, key_ids)
    figures.inflight_entries_left = _inflight_entries_left(var_dir)
    figures.dead_letters = sum(
        len(path.read_text().splitlines()) for path in (var_dir / "usage-journal").glob("dead-letter-*.jsonl")
    )
    return figures


def _records(database_url: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT request_id, api_key_id, outcome, error_class, prompt_tokens, prompt_tokens_known, "
            "prompt_tokens_estimated, content_tokens, completion_tokens FROM usage_usagerecord"
        )
        names = [column.name for column in cursor.description or ()]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _token_problem(request: ChaosRequest, log: ClientLog, row: dict[str, Any], checkpoint_seconds: float) -> str:
    """What is wrong with the record's tokens, given what the mock sent and the client saw."""
    sent = request.tokens if request.drop_after is None else request.drop_after
    tokens = row["content_tokens"]
    outcome, error = row["outcome"], row["error_class"]
    if tokens != row["completion_tokens"]:
        return f"completion {row['completion_tokens']} != content {tokens}"
    if outcome == "completed":
        if request.drop_after is not None or tokens != request.tokens or row["prompt_tokens"] != 12:
            return f"completed with {tokens} tokens (prompt {row['prompt_tokens']}), mock sent {request.tokens}"
        return ""
    if not row["prompt_tokens_known"] and tokens and not row["prompt_tokens_estimated"]:
        return "prompt neither known nor estimated"
    if outcome == "interrupted":
        # Up to one checkpoint of relayed tokens may be missing (the stated bound).
        lag = math.ceil(checkpoint_seconds * 1000 / request.delay_ms) + 1
        if not (log.received - lag <= tokens <= sent):
            return f"interrupted with {tokens}, client received {log.received}, mock sent at most {sent}"
        return ""
    if outcome == "failed" and error not in ("ServerShutdown",) and request.drop_after is not None:
        if tokens != request.drop_after:
            return f"upstream drop after {request.drop_after} recorded {tokens}"
        return ""
    if not (log.received <= tokens <= sent):
        return f"{outcome}/{error} with {tokens}, client received {log.received}, mock sent at most {sent}"
    return ""


def _check_redis(
    figures: ChaosFigures, url: str, records: dict[str, dict[str, Any]], checked_keys: set[int], key_ids: list[int]
) -> None:
    client = redis.Redis.from_url(url)
    try:
        _count_leases(figures, client)
        billed: Counter[int] = Counter()
        for row in records.values():
            billed[row["api_key_id"]] += row["prompt_tokens"] + row["completion_tokens"]
        for index in sorted(checked_keys):
            key_id = key_ids[index]
            used = sum(
                int(client.hget(name, "used") or 0) for name in client.scan_iter(BUDGET_PATTERN.format(key_id=key_id))
            )
            figures.budget_checked_keys += 1
            figures.budget_tokens += used
            if used != billed[key_id]:
                figures.budget_mismatches.append(f"key {key_id}: budget {used} != records {billed[key_id]}")
    finally:
        client.close()


def _count_leases(figures: ChaosFigures, client: redis.Redis) -> None:
    """Every lease still in Redis once every request has ended is one whose release never
    came, whether or not its deadline has passed (expired ones are purged lazily)."""
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros / 1000
    names = [name for pattern in LEASE_PATTERNS for name in client.scan_iter(pattern)]
    for name in names:
        for member, deadline_ms in client.zrange(name, 0, -1, withscores=True):
            left = (deadline_ms - now_ms) / 1000
            figures.leases_left += 1
            if left <= 0:
                figures.leases_left_expired += 1
            figures.lease_details.append(f"lease {member.decode()} in {name.decode()}: deadline in {left:.0f} s")


def _inflight_entries_left(var_dir: Path) -> int:
    return sum(len(read_open_entries(path)) for path in (var_dir / "usage-journal" / "inflight").glob("*.jsonl"))


def _peak_concurrency(logs: list[ClientLog]) -> int:
    edges = sorted([(log.started, 1) for log in logs] + [(log.ended, -1) for log in logs])
    peak = open_now = 0
    for _, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


def print_report(figures: ChaosFigures) -> None:
    def line(label: str, value: object, ok: bool | None = None) -> None:
        mark = "" if ok is None else ("  ok" if ok else "  FAILED")
        print(f"  {label:<48} {value}{mark}")

    print("\n== chaos run ==")
    for event in figures.events:
        print(f"  {event}")
    print("-- load")
    line("requests", figures.requests)
    line("peak concurrent clients", figures.peak_concurrency)
    line("clients that hung up at a random moment", figures.client_hang_ups)
    line("streams the upstream was told to drop", figures.upstream_drops_planned)
    line("connections refused (worker down, no record due)", figures.refused_connections)
    line("authenticated requests (x-request-id in client log)", figures.authenticated)
    print("-- records")
    line("usage records", figures.records)
    for outcome, count in sorted(figures.outcomes.items()):
        line(f"  {outcome}", count)
    line(
        "records matched to a client log, exactly once",
        f"{figures.records_matched}/{figures.authenticated}",
        figures.records_matched == figures.authenticated,
    )
    line("authenticated requests without a record", len(figures.missing_records), not figures.missing_records)
    line("records without a client id (cut before headers)", sum(figures.unmatched_records.values()))
    for outcome, count in sorted(figures.unmatched_records.items()):
        line(f"  {outcome}", count)
    line("token mismatches", len(figures.token_mismatches), not figures.token_mismatches)
    line("prompts billed at the admission estimate (flagged)", figures.estimated_prompts)
    print("-- state left behind")
    line(
        "admission leases left in Redis (of which expired)",
        f"{figures.leases_left} ({figures.leases_left_expired})",
        figures.leases_left == 0,
    )
    line("open in-flight journal entries left", figures.inflight_entries_left, figures.inflight_entries_left == 0)
    line(
        f"budget == sum of records ({figures.budget_checked_keys} keys, {figures.budget_tokens} tokens)",
        f"{len(figures.budget_mismatches)} mismatches",
        not figures.budget_mismatches,
    )
    line("clients hanging past their timeout", figures.hung, figures.hung == 0)
    line("dead-letter records", figures.dead_letters, figures.dead_letters == 0)
    line("seconds until every journal was committed", f"{figures.settle_seconds:.1f}")
    line("run time (s)", f"{figures.elapsed_seconds:.0f}")
    problems = figures.missing_records + figures.token_mismatches + figures.budget_mismatches + figures.lease_details
    for problem in problems[:15]:
        print(f"  ! {problem}")
    print("ALL CHECKS HELD" if figures.all_held else "SOME CHECKS FAILED")
