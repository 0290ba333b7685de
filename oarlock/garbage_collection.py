"""Garbage-collector settings for a serving process, applied once the application is loaded.

A request allocates thousands of short-lived objects, so CPython's default gen-0 threshold
(700 allocations) runs a collection every few requests, each one also scanning the tens of
thousands of long-lived objects Django, DRF and the app registry leave on the heap. Freezing
those (``gc.freeze``: never scanned again) and collecting less often cut 6-10% of a worker's
CPU per request in the benchmark (bench/RESULTS.md). Reference cycles are still collected.
"""

from __future__ import annotations

import gc
from typing import Final

# Allocations between gen-0 collections, and gen-0 (gen-1) collections between gen-1 (gen-2) ones.
THRESHOLDS: Final = (20_000, 20, 20)


def tune_garbage_collector() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
