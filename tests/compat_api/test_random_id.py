"""random_alphanumeric: ids of the asked length over [A-Za-z0-9], every character reachable."""

from __future__ import annotations

from compat_api.random_id import ALPHANUMERIC, random_alphanumeric


def test_an_id_has_the_asked_length_and_only_alphanumerics() -> None:
    for length in (1, 24, 29):
        value = random_alphanumeric(length)
        assert len(value) == length
        assert set(value) <= set(ALPHANUMERIC)


def test_every_alphanumeric_turns_up_in_every_position() -> None:
    samples = [random_alphanumeric(3) for _ in range(5000)]
    for position in range(3):
        assert {sample[position] for sample in samples} == set(ALPHANUMERIC)
