"""The registry in the admin (issue 22): activities, rounds and decisions are read-only; a
department account is linked through the service (audited); the cleanup moves to its next
stage only through cleanup_set_status."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse

from core.models import AuditLog
from registry.models import Cleanup, DepartmentAccount
from tests.conftest import make_user
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    cleanup_fixture,
    organiser_fixture,
    register,
)


def test_the_admin_reads_links_accounts_and_advances_through_services(client, cleanup,
                                                                      organiser):
    register(organiser, "全市某评比")
    root = User.objects.create_superuser("root", "root@example.org", "pw-root")
    client.force_login(root)
    for model in ("cleanup", "activity", "round", "rounddecision", "organiser",
                  "departmentaccount"):
        assert client.get(reverse(f"admin:registry_{model}_changelist")).status_code == 200
    activity = organiser.activities.get()
    change = client.get(reverse("admin:registry_activity_change", args=[activity.pk]))
    assert 'name="name"' not in change.content.decode()  # read-only
    user = make_user("keshi", None)
    client.post(reverse("admin:registry_departmentaccount_add"),
                {"user": user.pk, "organiser": organiser.pk})
    assert DepartmentAccount.objects.filter(user=user, organiser=organiser).exists()
    assert AuditLog.objects.filter(action="registry.account_link").exists()
    client.post(reverse("admin:registry_cleanup_changelist"),
                {"action": "advance", "_selected_action": [cleanup.pk]})
    assert Cleanup.objects.get(pk=cleanup.pk).status == "self_check"
    assert AuditLog.objects.filter(action="registry.cleanup_status").exists()
