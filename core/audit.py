"""Writing the audit log. Every change that matters calls `audit()` inside its transaction,
so a change and its log entry are committed together or not at all.

`audit()` is the only way an entry is written: it chains the entry to the ones before it
(core/chain.py), holding the chain's lock until the caller's transaction ends. So a service
should take its own row locks (select_for_update) before it logs, not after."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from core.chain import append
from core.models import AuditLog


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        # 0.9000 and 0.9 are the same threshold: log it as people write it ("0.9", "100").
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):  # a file field: its stored name, never its content
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The concrete field values of a model instance, JSON-ready (foreign keys as ids)."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        data[field.attname] = jsonable(getattr(obj, field.attname))
    return data


def campaign_of(obj: models.Model | None) -> Any:
    """The campaign an object belongs to: itself when it is one, else its `campaign`. Known by
    shape, not by class: plumbing imports no domain model."""
    if obj is None:
        return None
    if obj._meta.label == "campaigns.Campaign":
        return obj
    return getattr(obj, "campaign", None)


def audit(
    *,
    user: Any,
    action: str,
    obj: models.Model | None = None,
    campaign: Any = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    object_repr: str | None = None,
) -> AuditLog:
    campaign = campaign or campaign_of(obj)
    is_user = user is not None and getattr(user, "is_authenticated", False)
    return append(dict(
        at=timezone.now(),
        user=user if is_user else None,
        username=user.get_username() if is_user else "system",
        campaign_id=campaign.pk if campaign else None,
        campaign_slug=campaign.slug if campaign else "",
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr if object_repr is not None else str(obj) if obj else "")[:300],
        before=jsonable(before),
        after=jsonable(after),
        reason=reason,
    ))


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if before.get(k) != v}
