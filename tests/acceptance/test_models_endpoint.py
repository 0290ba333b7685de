from __future__ import annotations

import openai
import pytest

from inference.models import Upstream
from tests.factories import make_api_key


def test_lists_the_registered_models_in_openais_list_shape(openai_client: openai.OpenAI, fake_paddler: object) -> None:
    Upstream.objects.create(model_name="qwen3", aliases=["qwen"], inference_url="http://127.0.0.1:9")
    models = openai_client.models.list()
    ids = [model.id for model in models.data]
    assert ids == ["default", "qwen3"]
    assert all(model.object == "model" and model.owned_by for model in models.data)


def test_retrieves_one_model_and_its_alias(openai_client: openai.OpenAI) -> None:
    assert openai_client.models.retrieve("default").id == "default"
    assert openai_client.models.retrieve("fake-model").id == "fake-model"


def test_an_unknown_model_is_a_404_model_not_found(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.models.retrieve("gpt-9")
    assert caught.value.code == "model_not_found"
    assert caught.value.body["param"] == "model"


def test_a_key_sees_only_its_allowed_models(live_server: object, transactional_db: None) -> None:
    Upstream.objects.create(model_name="qwen3", inference_url="http://127.0.0.1:9")
    _, secret = make_api_key(allowed_models=["qwen3"])
    client = openai.OpenAI(base_url=live_server.base_url, api_key=secret, max_retries=0)
    assert [model.id for model in client.models.list().data] == ["qwen3"]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("default")
