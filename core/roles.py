"""The four roles, as groups with permissions. Recreated after every migrate so a fresh
database always has them (and a changed permission set reaches existing databases)."""

from __future__ import annotations

from typing import Any

OFFICE = "评议办公室"
CLERK = "录入员"
LEADER = "领导"
AUDITOR = "审计"
# Assessments (issue 18): the offices that report deductions and scores (督查室, 纪委, 行政服务
# 中心 …), and the assessed units, who see their approved entries and may object.
SOURCE = "提供单位"
ASSESSED = "被考核单位"
# Rectification (issue 19): a unit's contact (单位联络员) reports its unit's rectification; an
# acceptor (人大代表、政协委员、监督员) reads and accepts the cases assigned to them.
CONTACT = "单位联络员"
ACCEPTOR = "验收人"
# Registry (issue 22, document 003): the joint meeting's office (联席会议办公室, e.g. 纪委纠风室)
# runs the cleanup of 评比达标表彰项目 and reviews them; a department (举办单位) registers its own.
CLEANUP_OFFICE = "清理办公室"
DEPARTMENT = "举办单位"

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
        "assessments.manage_assessment",
        "assessments.review_assessment_entries",
        "assessments.view_assessment",
        "rectification.manage_cases",
        "rectification.accept_rectification",
        "rectification.view_case",
        "registry.view_cleanup",
    },
    CLEANUP_OFFICE: {
        "registry.manage_cleanup",
        "registry.review_activities",
        "registry.view_cleanup",
        "registry.view_organiser",
        "registry.add_organiser",
        "registry.view_departmentaccount",
        "registry.add_departmentaccount",
        "registry.delete_departmentaccount",
        "registry.view_activity",
        "registry.view_round",
        "registry.view_rounddecision",
        "registry.view_cleanupphase",
    },
    DEPARTMENT: {"registry.register_activities"},
    CONTACT: {"rectification.report_rectification"},
    ACCEPTOR: {"rectification.accept_rectification"},
    SOURCE: {"assessments.enter_assessment_entries", "assessments.view_assessment"},
    ASSESSED: {"assessments.view_assessment"},
    CLERK: {"campaigns.key_paper_ballots", "campaigns.view_campaign"},
    LEADER: {
        "campaigns.view_results",
        "campaigns.download_reports",
        "campaigns.view_campaign",
        "assessments.view_assessment",
        "rectification.view_case",
        "registry.view_cleanup",
    },
    AUDITOR: {
        "campaigns.view_results",
        "campaigns.download_reports",
        "campaigns.view_auditlog",
        "assessments.view_assessment",
        "registry.view_cleanup",
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
