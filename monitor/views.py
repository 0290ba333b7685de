"""The monitor page; the live data comes over its websocket (monitor_consumer.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from monitor.monitor_viewer import monitor_viewer


@login_required
def monitor_page(request: HttpRequest) -> HttpResponse:
    viewer = monitor_viewer(request.user)
    return render(
        request,
        "monitor/monitor.html",
        {
            "viewer": viewer,
            "may_watch": viewer is not None and viewer.may_watch,
        },
        status=200 if viewer is not None and viewer.may_watch else 403,
    )
