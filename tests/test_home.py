from __future__ import annotations

from django.urls import reverse


def test_home_is_chinese_by_default_and_english_on_request(client, leader, qianren):
    client.force_login(leader)
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-CN">' in page and "评议活动" in page
    english = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english


def test_campaign_page_shows_configuration(client, leader, qianren):
    client.force_login(leader)
    page = client.get(reverse("campaign_detail", args=[qianren.slug])).content.decode()
    for text in ("地方管理部门类", "弃权", "未填写视为此项", "宣传发动", "年终评议"):
        assert text in page
    assert 'href="/static/vendor/bootstrap/bootstrap.min.css"' in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


def test_user_text_is_escaped(client, leader, campaign_factory):
    c = campaign_factory("qianren", name="<script>alert(1)</script>")
    client.force_login(leader)
    page = client.get(reverse("campaign_detail", args=[c.slug])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
