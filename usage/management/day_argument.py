"""The DATE argument of the usage commands (YYYY-MM-DD, a local day)."""

from __future__ import annotations

import argparse
from datetime import date


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from error
