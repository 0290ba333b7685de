"""Shared fixtures: the fake Paddler, a live Oarlock server, API keys and OpenAI clients."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator

import openai
import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core.management import CommandError
from django.db import OperationalError, connections
from django.test import TransactionTestCase

from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.live_server import LiveServer
from usage.usage_writer import usage_writer


@pytest.fixture(scope="session")
def fake_paddler_server() -> Iterator[FakePaddlerServer]:
    server = FakePaddlerServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_paddler(fake_paddler_server: FakePaddlerServer) -> Iterator[FakePaddlerServer]:
    """The fake Paddler behind the live server's default upstream, reset for this test."""
    fake_paddler_server.reset()
    yield fake_paddler_server
    fake_paddler_server.reset()


def _live_server_env(fake_url: str) -> dict[str, str]:
    return {
        "PADDLER_INFERENCE_URL": fake_url,
        "OARLOCK_DEFAULT_MODEL": "default",
        "OARLOCK_DEFAULT_MODEL_ALIASES": "fake-model",
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    """One test database per pytest process, so that concurrent runs never share one."""
    database = settings.DATABASES["default"]
    test_name = database.get("TEST", {}).get("NAME") or f"test_{database['NAME']}"
    suffix = f"_{os.getpid()}"
    if database["ENGINE"].endswith("sqlite3"):
        stem, dot, extension = test_name.rpartition(".")
        database.setdefault("TEST", {})["NAME"] = f"{stem}{suffix}{dot}{extension}" if dot else test_name + suffix
    else:
        database.setdefault("TEST", {})["NAME"] = test_name + suffix


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's test database, dropped only once this process's background threads
    have let go of it: the usage writer and asgiref's thread for sync ORM calls each keep a
    connection open, and PostgreSQL refuses to drop a database anyone is connected to (the
    teardown warning "being accessed by other users")."""
    yield
    usage_writer.stop()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


@pytest.fixture(autouse=True)
def _live_server_helper() -> None:
    """Switch off pytest-django's helper for its own ``live_server``, which ours replaces."""


@pytest.fixture(scope="session")
def live_server(
    django_db_setup: None, django_db_blocker: object, fake_paddler_server: FakePaddlerServer
) -> Iterator[LiveServer]:
    """Real Daphne serving oarlock.asgi on the test database, upstream = the fake Paddler."""
    server = LiveServer(_live_server_env(fake_paddler_server.url)).start()
    yield server
    server.stop()


@pytest.fixture
def live_server_factory(
    django_db_setup: None, fake_paddler_server: FakePaddlerServer
) -> Iterator[Callable[..., LiveServer]]:
    """Start a live server with extra environment (stopped after the test)."""
    started: list[LiveServer] = []

    def start(env: dict[str, str] | None = None, *, server: str = "daphne") -> LiveServer:
        live = LiveServer({**_live_server_env(fake_paddler_server.url), **(env or {})}, server=server)
        started.append(live.start())
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def api_key(transactional_db: None) -> tuple[object, str]:
    """A committed (tenant, key): visible to the live server process."""
    return make_api_key()


@pytest.fixture
def openai_client(live_server: LiveServer, api_key: tuple[object, str]) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=live_server.base_url, api_key=api_key[1], max_retries=0, timeout=30)
    yield client
    client.close()


@pytest.fixture
async def async_openai_client(
    live_server: LiveServer, api_key: tuple[object, str]
) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=live_server.base_url, api_key=api_key[1], max_retries=0, timeout=30)
    yield client
    await client.close()


# Browser fixtures for page tests (Playwright + Debian's chromium): see tests/browser.py.
from tests.browser import browser, page, portal_person  # noqa: E402,F401


def _flush_retrying_deadlocks(original: Callable[..., None]) -> Callable[..., None]:
    """A live server process may still be writing the last request's rows (its usage record,
    its stored response) when a transactional test truncates every table; PostgreSQL breaks that
    lock cycle by failing one side, sometimes the flush. Retrying the flush is then correct."""

    def teardown(self: TransactionTestCase) -> None:
        for attempt in range(3):
            try:
                original(self)
                return
            except (OperationalError, CommandError) as error:
                if attempt == 2 or "deadlock" not in str(error.__cause__ or error):
                    raise
                time.sleep(0.2)

    return teardown


TransactionTestCase._fixture_teardown = _flush_retrying_deadlocks(TransactionTestCase._fixture_teardown)  # type: ignore[method-assign]
