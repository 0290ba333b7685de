"""Who else learns when a metered request starts and ends: the live monitor, for one.

The meter tells its watchers twice per request — when it is created and when it is finished —
and never per token: a watcher that wants progress reads the meter's counters on its own clock
(``UsageMeter.progress``), so the request path pays nothing per relayed token.
Usage does not import its watchers; they register here (``monitor.apps``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from usage.usage_meter import UsageMeter

logger = logging.getLogger(__name__)


class MeterWatcher(Protocol):
    def meter_started(self, meter: UsageMeter) -> None: ...

    def meter_finished(self, meter: UsageMeter) -> None: ...


_watchers: list[MeterWatcher] = []


def watch_meters(watcher: MeterWatcher) -> None:
    if watcher not in _watchers:
        _watchers.append(watcher)


def unwatch_meters(watcher: MeterWatcher) -> None:
    if watcher in _watchers:
        _watchers.remove(watcher)


def notify_started(meter: UsageMeter) -> None:
    for watcher in _watchers:
        try:
            watcher.meter_started(meter)
        except Exception:  # a watcher never breaks the request it watches
            logger.exception("meter watcher failed at start")


def notify_finished(meter: UsageMeter) -> None:
    for watcher in _watchers:
        try:
            watcher.meter_finished(meter)
        except Exception:
            logger.exception("meter watcher failed at finish")
