"""Usage records (one per metered request) and their daily rollups (what reports read).

Usage is billing data: it must outlive the keys and tenants it belongs to. So neither table has
a foreign key to ``accounts``: they store the tenant and key ids plus the names as they were when
the request ran, and deleting a key or a tenant leaves every record and rollup in place.
"""

from __future__ import annotations

from django.db import models


class Outcome(models.TextChoices):
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    FAILED = "failed"
    CLIENT_DISCONNECTED = "client_disconnected", "client disconnected"
    REJECTED = "rejected"
    # The worker died mid-request (SIGKILL, crash): written later from the in-flight journal.
    INTERRUPTED = "interrupted"
    # Stopped from the live monitor (staff, or the person whose request it was).
    CANCELLED = "cancelled"


class Endpoint(models.TextChoices):
    CHAT_COMPLETIONS = "chat.completions"
    RESPONSES = "responses"


class UsageSource(models.TextChoices):
    # Paddler's Done summary.
    REPORTED = "reported"
    # No Done arrived (disconnect, drop, error mid-stream): the token lines Oarlock relayed.
    COUNTED = "counted"


class UsageRecord(models.Model):
    # Oarlock's own request id ("req_…"): unique, so a batch written twice counts once.
    request_id = models.CharField(max_length=64, unique=True)
    tenant_id = models.BigIntegerField()
    tenant_name = models.CharField(max_length=120, blank=True)
    api_key_id = models.BigIntegerField("API key id")
    key_name = models.CharField(max_length=120, blank=True)
    key_prefix = models.CharField(max_length=16, blank=True)
    endpoint = models.CharField(max_length=32, choices=Endpoint.choices)
    model = models.CharField(max_length=200, blank=True)
    upstream = models.CharField(max_length=200, blank=True)
    paddler_request_id = models.CharField("Paddler request id", max_length=64, blank=True)
    generated_by = models.CharField(max_length=200, blank=True)
    streamed = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    # The local (TIME_ZONE) date of started_at: the rollup and retention grain.
    day = models.DateField()
    time_to_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField()
    error_class = models.CharField(max_length=120, blank=True)
    usage_source = models.CharField(max_length=8, choices=UsageSource.choices)
    # False when no Done arrived: prompt_tokens is then 0 or, when flagged below, an estimate.
    prompt_tokens_known = models.BooleanField(default=True)
    # True when prompt_tokens is the admission estimate (no Done came, the prompt was sent).
    prompt_tokens_estimated = models.BooleanField(default=False, db_default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    cached_prompt_tokens = models.PositiveIntegerField(default=0)
    input_image_tokens = models.PositiveIntegerField(default=0)
    content_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    tool_call_tokens = models.PositiveIntegerField(default=0)
    undeterminable_tokens = models.PositiveIntegerField(default=0)
    # content + reasoning + tool-call + undeterminable, as Paddler bills it.
    completion_tokens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["started_at"], name="usage_record_started"),
            models.Index(fields=["day"], name="usage_record_day"),
            models.Index(fields=["tenant_id", "started_at"], name="usage_record_tenant"),
            models.Index(fields=["api_key_id", "started_at"], name="usage_record_key"),
        ]

    def __str__(self) -> str:
        return self.request_id

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# The token counters shared by records and rollups, in report order.
TOKEN_FIELDS: tuple[str, ...] = (
    "prompt_tokens",
    "cached_prompt_tokens",
    "input_image_tokens",
    "content_tokens",
    "reasoning_tokens",
    "tool_call_tokens",
    "undeterminable_tokens",
    "completion_tokens",
)


class UsageRollup(models.Model):
    """One (day, tenant, key, model) cell: sums of the records written so far.

    Writers add a batch's deltas with one upsert (no per-request UPDATE of a shared row);
    ``rebuild_usage_rollups`` recomputes cells from the records.
    """

    day = models.DateField()
    tenant_id = models.BigIntegerField()
    api_key_id = models.BigIntegerField("API key id")
    model = models.CharField(max_length=200, blank=True)
    # The latest names seen for this cell (reports prefer the current names when they exist).
    tenant_name = models.CharField(max_length=120, blank=True)
    key_name = models.CharField(max_length=120, blank=True)
    key_prefix = models.CharField(max_length=16, blank=True)
    requests = models.PositiveBigIntegerField(default=0)
    # Requests that failed upstream or were rejected by Oarlock.
    error_requests = models.PositiveBigIntegerField(default=0)
    # Requests whose prompt size is unknown (no Done): their prompt_tokens contributed 0.
    prompt_unknown_requests = models.PositiveBigIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    cached_prompt_tokens = models.PositiveBigIntegerField(default=0)
    input_image_tokens = models.PositiveBigIntegerField(default=0)
    content_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    tool_call_tokens = models.PositiveBigIntegerField(default=0)
    undeterminable_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "usage dashboard"
        verbose_name_plural = "usage dashboard"
        constraints = [
            models.UniqueConstraint(fields=["day", "tenant_id", "api_key_id", "model"], name="usage_rollup_cell")
        ]
        indexes = [
            models.Index(fields=["tenant_id", "day"], name="usage_rollup_tenant"),
            models.Index(fields=["api_key_id", "day"], name="usage_rollup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tenant_name}/{self.key_prefix} {self.model}"


# Rollup counters, in the order the writer and the rebuild fill them.
ROLLUP_COUNTERS: tuple[str, ...] = (
    "requests",
    "error_requests",
    "prompt_unknown_requests",
    *TOKEN_FIELDS,
)
