"""Filters of the results pages and reports."""

from __future__ import annotations

from django import template

from scoring import presentation

register = template.Library()


@register.filter
def flag_css(flag: str) -> str:
    """A flag badge's class: a per-dimension line (key_rectification:<dimension>) looks like
    重点整改."""
    return presentation.flag_css(flag)
