from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from inference.errors import ModelNotFound
from inference.models import Upstream
from inference.upstream_registry import UpstreamRegistry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_thread_connections() -> AsyncIterator[None]:
    """The ORM runs in asgiref's worker thread here: close its connection so the test
    database can be flushed and dropped (PostgreSQL refuses while a session is open)."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def registry(settings: pytest.FixtureRequest) -> UpstreamRegistry:
    settings.PADDLER_INFERENCE_URL = "http://paddler:8061"
    settings.OARLOCK_DEFAULT_MODEL = "qwen3"
    settings.OARLOCK_DEFAULT_MODEL_ALIASES = ["default"]
    settings.OARLOCK_UPSTREAM_REFRESH_SECONDS = 0
    return UpstreamRegistry()


async def test_the_default_upstream_answers_to_its_model_name_and_aliases(registry: UpstreamRegistry) -> None:
    assert (await registry.resolve("qwen3")).inference_url == "http://paddler:8061"
    assert (await registry.resolve("default")).name == "default"


async def test_named_upstreams_from_the_database_route_their_model_and_aliases(
    registry: UpstreamRegistry,
) -> None:
    await Upstream.objects.acreate(model_name="gemma", aliases=["gemma-3"], inference_url="http://gpu-2:8061/")
    await Upstream.objects.acreate(model_name="off", inference_url="http://gpu-3:8061", is_enabled=False)
    assert (await registry.resolve("gemma-3")).inference_url == "http://gpu-2:8061"
    assert [entry.id for entry in await registry.list_models()] == ["qwen3", "gemma"]
    with pytest.raises(ModelNotFound):
        await registry.resolve("off")


async def test_an_unknown_model_is_not_found(registry: UpstreamRegistry) -> None:
    with pytest.raises(ModelNotFound) as caught:
        await registry.resolve("gpt-9")
    assert caught.value.param == "model"


async def test_one_client_per_inference_url(registry: UpstreamRegistry) -> None:
    upstream = await registry.resolve("qwen3")
    assert registry.client_for(upstream) is registry.client_for(upstream)
    await registry.aclose()
