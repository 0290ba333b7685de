"""``{{ value|thousands }}``: token counts are long; 1,234,567 reads better than 1234567.

(``django.contrib.humanize`` would do, but is not an installed app; this is the one filter the
dashboard needs.)
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def thousands(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)
