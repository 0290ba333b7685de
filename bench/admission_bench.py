"""Micro-benchmark: what admission adds to a request, in process and with Redis.

    .venv/bin/python -m bench.admission_bench [--iterations 20000] [--redis redis://127.0.0.1:6379/14]

Measures ``admit_request`` and ``Admission.release`` for a key whose key AND tenant carry every
limit (requests/min, tokens/min, in flight, a daily token budget): the worst case, two scopes in
one script. Limits are high enough that nothing is refused. Reports p50/p99 in milliseconds for
admit, release and both, sequentially and with 32 requests in flight at once; the Redis case
is one EVALSHA per admit and one per release. For the request path's two admission steps
(``admit_call``, then ``reserve_tokens``), it also reports the client CPU of releasing both: one
after the other, against ``release_admissions`` (one store call). Redis keys go to their own
prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oarlock.settings")
django.setup()

from redis.asyncio import Redis  # noqa: E402

from accounts.admission import Admission, AdmissionController, release_admissions  # noqa: E402  (needs django.setup())
from accounts.authenticated_key import AuthenticatedKey, Limits  # noqa: E402
from accounts.limit_store import LimitStore  # noqa: E402
from accounts.memory_limit_store import MemoryLimitStore  # noqa: E402
from accounts.redis_limit_store import RedisLimitStore  # noqa: E402

BENCH_PREFIX = "oarlock:bench"
EVERY_LIMIT = Limits(
    rpm=1_000_000_000, tpm=2_000_000_000, max_concurrent=100_000, token_budget=10**15, budget_period="day"
)
RPM_ONLY = Limits(rpm=1_000_000_000)
NO_LIMITS = Limits()


def key_with(limits: Limits, tenant_limits: Limits | None = None) -> AuthenticatedKey:
    return AuthenticatedKey(
        key_id=1,
        key_name="bench",
        key_prefix="oar_bench000",
        tenant_id=1,
        tenant_name="bench",
        key_limits=limits,
        tenant_limits=limits if tenant_limits is None else tenant_limits,
    )


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:7.3f} ms   p99 {p99:7.3f} ms"


async def measure_sequential(controller: AdmissionController, key: AuthenticatedKey, iterations: int) -> None:
    admits, releases, totals = [], [], []
    for _ in range(iterations // 10):  # warm up: connections, script cache, JIT-less caches
        await (await controller.admit(key=key, model="m", estimated_tokens=500)).release(used_tokens=300)
    for _ in range(iterations):
        started = time.perf_counter()
        admission = await controller.admit(key=key, model="m", estimated_tokens=500)
        admitted = time.perf_counter()
        await admission.release(used_tokens=300)
        released = time.perf_counter()
        admits.append(admitted - started)
        releases.append(released - admitted)
        totals.append(released - started)
    print(f"    admit             {percentiles(admits)}")
    print(f"    release           {percentiles(releases)}")
    print(f"    admit + release   {percentiles(totals)}")


async def measure_concurrent(
    controller: AdmissionController, key: AuthenticatedKey, iterations: int, in_flight: int
) -> None:
    admits: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            admission = await controller.admit(key=key, model="m", estimated_tokens=500)
            admits.append(time.perf_counter() - started)
            await admission.release(used_tokens=300)

    started = time.perf_counter()
    await asyncio.gather(*(worker(iterations // in_flight) for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    print(f"    admit, {in_flight} in flight  {percentiles(admits)}   ({len(admits) / elapsed:,.0f} admit+release/s)")


async def measure_two_step_release_cpu(controller: AdmissionController, key: AuthenticatedKey, iterations: int) -> None:
    """CPU time (``time.process_time``) of releasing a request admitted in two steps."""

    async def one_after_the_other(steps: list[Admission]) -> None:
        for step in steps:
            await step.release(used_tokens=300)

    async def together(steps: list[Admission]) -> None:
        await release_admissions(steps, used_tokens=300)

    variants = {"one after the other": one_after_the_other, "release_admissions": together}
    cpu = dict.fromkeys(variants, 0.0)
    block = 500
    for _ in range(max(iterations // block, 1)):  # alternating blocks: both see the same machine
        for name, release in variants.items():
            for _ in range(block):
                steps = [
                    await controller.admit_call(key=key),
                    await controller.reserve_tokens(key=key, model="m", estimated_tokens=500),
                ]
                started = time.process_time()
                await release(steps)
                cpu[name] += time.process_time() - started
    rounds = max(iterations // block, 1) * block
    for name, seconds in cpu.items():
        print(f"    release 2 steps, {name:20s} {seconds / rounds * 1e6:6.1f} µs CPU per request")


async def run(
    name: str,
    make_store: Callable[[], LimitStore],
    iterations: int,
    cleanup: Callable[[LimitStore], Awaitable[None]] | None = None,
) -> None:
    store = make_store()
    print(f"{name}")
    scenarios = (
        ("every limit on key and tenant", key_with(EVERY_LIMIT)),
        ("requests per minute on the key only", key_with(RPM_ONLY, NO_LIMITS)),
        ("no limits (baseline)", key_with(NO_LIMITS)),
    )
    for label, key in scenarios:
        print(f"  {label}")
        controller = AdmissionController(store=store)
        await measure_sequential(controller, key, iterations)
        if key.key_limits is EVERY_LIMIT:
            await measure_concurrent(controller, key, iterations, 32)
            await measure_two_step_release_cpu(controller, key, iterations)
    if cleanup is not None:
        await cleanup(store)


async def delete_bench_keys(store: LimitStore) -> None:
    assert isinstance(store, RedisLimitStore)
    client = Redis.from_url(store.url)
    async for key in client.scan_iter(match=f"{BENCH_PREFIX}:*"):
        await client.delete(key)
    await client.aclose()
    await store.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14")
    options = parser.parse_args()
    await run("in process (MemoryLimitStore)", MemoryLimitStore, options.iterations)
    await run(
        f"Redis ({options.redis})",
        lambda: RedisLimitStore(options.redis, prefix=BENCH_PREFIX),
        options.iterations,
        delete_bench_keys,
    )


if __name__ == "__main__":
    asyncio.run(main())
