"""The model catalogue: the models this person may use, each upstream's health, and snippets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inference.upstream_registry import upstream_registry
from portal.model_access import models_for_tenants
from portal.model_snippets import Snippet, model_snippets
from portal.person_access import member_tenants


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    model: str
    healthy: bool
    snippets: list[Snippet]


async def model_catalogue(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    allowed = await sync_to_async(lambda: models_for_tenants(list(member_tenants(user))))()
    upstreams = {upstream.model: upstream for upstream in await upstream_registry.upstreams()}
    shown = [model for model in allowed if model in upstreams]
    checks = await asyncio.gather(
        *(upstream_registry.client_for(upstreams[model]).check_health() for model in shown)
    )
    base_url = request.build_absolute_uri("/v1")
    entries = [
        CatalogueEntry(model, healthy, model_snippets(model=model, base_url=base_url))
        for model, healthy in zip(shown, checks, strict=True)
    ]
    return await sync_to_async(render)(
        request, "portal/models.html", {"entries": entries, "base_url": base_url}
    )
