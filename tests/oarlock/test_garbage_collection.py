"""The serving process's garbage-collector settings."""

from __future__ import annotations

import gc

from oarlock.garbage_collection import THRESHOLDS, tune_garbage_collector


def test_tuning_freezes_the_loaded_heap_and_collects_less_often() -> None:
    thresholds = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
