"""English through Django i18n: the compiled translation is found and used."""

from __future__ import annotations

from django.urls import reverse


def test_pages_switch_to_english(client, leader, qianren):
    client.cookies["django_language"] = "en"
    page = client.get(reverse("home")).content.decode()
    assert 'lang="en"' in page and ">Campaign<" in page and "Log in" in page
    client.force_login(leader)
    page = client.get(reverse("results", args=[qianren.slug])).content.decode()
    assert "Satisfaction rate" in page and "Rank" in page
    assert "满意率" not in page and "名次" not in page
