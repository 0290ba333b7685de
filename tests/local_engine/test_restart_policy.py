"""When the supervisor restarts a dead engine, and when it gives up."""

from __future__ import annotations

from local_engine.restart_policy import RestartPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pauses_grow_and_the_death_after_the_last_allowed_restart_gives_up() -> None:
    clock = Clock()
    policy = RestartPolicy(max_restarts=3, window_seconds=120, first_delay=1, max_delay=8, clock=clock)
    delays = []
    for _ in range(4):
        delays.append(policy.record_death())
        clock.now += 10
    assert delays == [1, 2, 4, None]


def test_deaths_outside_the_window_are_forgotten() -> None:
    clock = Clock()
    policy = RestartPolicy(max_restarts=2, window_seconds=60, clock=clock)
    assert policy.record_death() == 1
    clock.now += 30
    assert policy.record_death() == 2
    clock.now += 61  # the first two are older than the window now
    assert policy.record_death() == 1
    assert policy.recent_deaths == 1


def test_the_pause_is_capped() -> None:
    clock = Clock()
    policy = RestartPolicy(max_restarts=10, window_seconds=600, first_delay=1, max_delay=8, clock=clock)
    assert [policy.record_death() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
