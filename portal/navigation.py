"""The portal's navigation bar, as a template context processor.

Other portal pages (the playground, the monitor) add themselves to ``NAV_ITEMS``; an item whose
URL name does not resolve is left out, so a page can ship in its own branch.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.tenant_access import is_person, is_staff

# (URL name, label): in the order shown.
NAV_ITEMS: list[tuple[str, str]] = [
    ("portal:home", "Home"),
    ("portal:keys", "Keys"),
    ("portal:usage", "Usage"),
    ("portal:models", "Models"),
    ("playground:page", "Playground"),
    ("monitor:page", "Monitor"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not is_person(user):
        return {"portal_nav": []}
    items = []
    for name, label in NAV_ITEMS:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"url": url, "label": label, "current": current})
    if is_staff(user):
        items.append({"url": reverse("admin:index"), "label": "Admin", "current": False})
    return {"portal_nav": items}
