"""Routes served by Django's handler. /v1/ is served by compat_api's consumer (see asgi.py)."""

from django.contrib import admin
from django.urls import include, path

from inference.health_view import health
from oarlock.metrics_view import metrics

urlpatterns = [
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.management_api.urls")),
    path("api/usage/", include("usage.urls")),
    path("monitor/", include("monitor.urls")),
    path("playground/", include("playground.urls")),
    path("", include("portal.urls")),
]
