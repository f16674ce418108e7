"""Template filters every app's pages share."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def yes_no(value: object) -> str:
    """是 / 否, translated (Django's `yesno:"是,否"` would stay Chinese in English pages)."""
    return _("是") if value else _("否")
