"""On a fresh database the roles already hold the permissions of every app (ballots too),
after one migrate: the roles are refreshed after each app's post_migrate."""

from __future__ import annotations

from django.contrib.auth.models import Group


def test_roles_have_ballots_permissions_after_one_migrate(db):
    office = set(Group.objects.get(name="评议办公室").permissions.values_list("codename", flat=True))
    auditor = set(Group.objects.get(name="审计").permissions.values_list("codename", flat=True))
    assert {"view_ballot", "change_ballot", "view_printedrange"} <= office
    assert {"view_ballot", "view_keyedentry", "view_auditlog"} <= auditor
    assert "change_ballot" not in auditor
