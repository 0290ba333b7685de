"""Usage routes under /api/usage/ (included by oarlock/urls.py)."""

from django.urls import path

from usage.usage_api_view import UsageReportApiView

app_name = "usage"
urlpatterns = [
    path("", UsageReportApiView.as_view(), name="report"),
]
