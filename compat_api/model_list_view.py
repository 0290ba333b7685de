"""``GET /v1/models`` and ``GET /v1/models/{id}``: the models the registry routes."""

from __future__ import annotations

from django.http import JsonResponse
from rest_framework.request import Request

from compat_api.openai_api_view import OpenAIApiView
from compat_api.request_lifecycle import authenticated_key, lifecycle_of
from inference.errors import ModelNotFound
from inference.upstream_registry import ModelEntry, upstream_registry


def _model_json(entry: ModelEntry) -> dict[str, object]:
    return {"id": entry.id, "object": "model", "created": entry.created, "owned_by": entry.owned_by}


def _visible(request: Request, entries: list[ModelEntry]) -> list[ModelEntry]:
    key = authenticated_key(lifecycle_of(request))
    return [entry for entry in entries if key.allows_model(entry.id)]


class ModelListView(OpenAIApiView):
    async def get(self, request: Request) -> JsonResponse:
        entries = _visible(request, await upstream_registry.list_models())
        return JsonResponse({"object": "list", "data": [_model_json(entry) for entry in entries]})


class ModelDetailView(OpenAIApiView):
    async def get(self, request: Request, model_id: str) -> JsonResponse:
        for entry in _visible(request, await upstream_registry.list_models()):
            if entry.id == model_id:
                return JsonResponse(_model_json(entry))
        # An alias routes like its model: answer it under the name the client used.
        await upstream_registry.resolve(model_id)
        if not authenticated_key(lifecycle_of(request)).allows_model(model_id):
            raise ModelNotFound(model_id)
        return JsonResponse({"id": model_id, "object": "model", "created": 0, "owned_by": "oarlock"})
