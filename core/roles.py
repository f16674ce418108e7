"""The four roles, as groups with permissions. Recreated after every migrate so a fresh
database always has them (and a changed permission set reaches existing databases)."""

from __future__ import annotations

from typing import Any

OFFICE = "评议办公室"
CLERK = "录入员"
LEADER = "领导"
AUDITOR = "审计"

CONFIG_APPS = ("core", "campaigns", "ballots")

# Custom permissions on Campaign (see Campaign.Meta.permissions).
ROLE_PERMISSIONS: dict[str, set[str]] = {
    OFFICE: {
        "campaigns.configure_campaign",
        "campaigns.resolve_paper_disputes",
        "campaigns.key_paper_ballots",
        "campaigns.view_results",
        "campaigns.download_reports",
        "campaigns.manage_codes",
        "campaigns.publish_results",
    },
    CLERK: {"campaigns.key_paper_ballots", "campaigns.view_campaign"},
    LEADER: {
        "campaigns.view_results",
        "campaigns.download_reports",
        "campaigns.view_campaign",
    },
    AUDITOR: {
        "campaigns.view_results",
        "campaigns.download_reports",
        "campaigns.view_auditlog",
    },
}

# Office staff may add/change/delete configuration; auditors may view every model.
MODEL_ACTIONS: dict[str, tuple[str, ...]] = {
    OFFICE: ("add", "change", "delete", "view"),
    AUDITOR: ("view",),
}
# Nobody edits the audit log, not even office staff.
READ_ONLY_MODELS = {"auditlog", "codeattempt"}


def ensure_roles(**kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = set()
        for full in codenames:
            app_label, codename = full.split(".")
            perms |= set(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        for action in MODEL_ACTIONS.get(role, ()):
            qs = Permission.objects.filter(
                content_type__app_label__in=CONFIG_APPS, codename__startswith=f"{action}_"
            )
            for perm in qs:
                model = perm.codename.split("_", 1)[1]
                if action != "view" and model in READ_ONLY_MODELS:
                    continue
                if model == "auditlog" and role != AUDITOR:
                    continue
                perms.add(perm)
        group.permissions.set(perms)
