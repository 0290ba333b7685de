"""The OpenAI-compatible routes, resolved by the API consumer (not by Django's handler)."""

from django.urls import path

from compat_api.chat.view import ChatCompletionView
from compat_api.model_list_view import ModelDetailView, ModelListView
from compat_api.responses.view import ResponseDetailView, ResponseInputItemsView, ResponsesView

urlpatterns = [
    path("v1/models", ModelListView.as_view()),
    path("v1/models/<path:model_id>", ModelDetailView.as_view()),
    path("v1/chat/completions", ChatCompletionView.as_view()),
    path("v1/responses", ResponsesView.as_view()),
    path("v1/responses/<str:response_id>", ResponseDetailView.as_view()),
    path("v1/responses/<str:response_id>/input_items", ResponseInputItemsView.as_view()),
]
