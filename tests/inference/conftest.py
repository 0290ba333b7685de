"""Fixtures for the inference tests (the fake Paddler itself comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from inference.paddler_client import PaddlerClient
from tests.fake_paddler import FakePaddlerServer


@pytest.fixture
async def paddler(fake_paddler: FakePaddlerServer) -> AsyncIterator[PaddlerClient]:
    """A client for the fake Paddler, closed after the test."""
    client = PaddlerClient(fake_paddler.url)
    yield client
    await client.aclose()
