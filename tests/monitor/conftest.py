from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_paddler import FakePaddlerServer
from tests.live_server import LiveServer
from tests.page_browser import browser, start_page_server

__all__ = ["browser"]


@pytest.fixture(scope="session")
def page_server(django_db_setup: None, fake_paddler_server: FakePaddlerServer) -> Iterator[LiveServer]:
    server = start_page_server(fake_paddler_server.url)
    yield server
    server.stop()
