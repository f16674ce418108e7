"""The registry is reached from the navigation bar by those it is for, and by no one else."""

from __future__ import annotations

from django.urls import reverse


def test_the_nav_links_the_registry_for_office_staff_not_for_clerks(client, office, clerk):
    link = f'href="{reverse("registry_list")}"'
    client.force_login(office)
    assert link in client.get(reverse("home")).content.decode()
    client.force_login(clerk)
    assert link not in client.get(reverse("home")).content.decode()
