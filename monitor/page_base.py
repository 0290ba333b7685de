"""The template the live pages extend: the portal's base when the portal app provides one."""

from __future__ import annotations

from django.template import Template
from django.template.loader import select_template


def page_base_template() -> Template:
    return select_template(["portal/base.html", "live/base.html"])
