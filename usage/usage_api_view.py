"""``GET /api/usage/``: the usage report as JSON, for automation. Staff only.

Authenticated with a staff user's session or personal admin token (``Bearer oat_…``) — never
with an inference API key (those authenticate /v1 only), never with HTTP Basic. Staff need the
permission to view usage records. Query: ``group_by`` (tenant|key|model|day, default
tenant), ``since``/``until`` (YYYY-MM-DD, inclusive), optional ``tenant``, ``key`` (ids) and
``model``. The body is the same JSON array of objects as ``usage_report --format json``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.management_api.access import AdminTokenAuthentication
from accounts.tenant_access import has_model_permission
from usage.models import UsageRecord
from usage.report_export import report_objects
from usage.usage_filter_form import UsageFilterForm
from usage.usage_queries import usage_rows


class CanViewUsageRecords(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return has_model_permission(request.user, UsageRecord, "view")


class UsageReportApiView(APIView):
    authentication_classes = [AdminTokenAuthentication, SessionAuthentication]
    permission_classes = [CanViewUsageRecords]

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=["tenant", "key", "model", "day"]),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
            OpenApiParameter("tenant", int),
            OpenApiParameter("key", int),
            OpenApiParameter("model", str),
        ],
        responses={200: OpenApiTypes.ANY},
        description="One object per group, with the columns of `usage_report --format json`.",
    )
    def get(self, request: Request) -> Response:
        form = UsageFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        group_by = form.chosen_group_by("tenant")
        rows = usage_rows(form.usage_filter(), group_by)
        return Response(report_objects(rows, group_by))
