"""The office's setup pages (issue 16): units and representatives imports and the rules
form, without the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, CampaignUnit, Office, Representative
from core.models import AuditLog, StagedUpload
from tests.helpers import add_units, xlsx_bytes
from tests.test_paper_browser import browser, logged_in, shot  # noqa: F401, F811  (browser: the fixture)

UNITS = ("类别", "单位", "垂直管理", "一票否决")
REPS = ("姓名", "代表类别", "片区", "单位及职务", "手机", "新聘")


@pytest.fixture(autouse=True)
def _upload_root(settings, tmp_path):
    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"


def xlsx(name: str, sheets) -> SimpleUploadedFile:  # type: ignore[no-untyped-def]
    return SimpleUploadedFile(name, xlsx_bytes(sheets))


def url(name: str, campaign) -> str:  # type: ignore[no-untyped-def]
    return reverse(name, args=[campaign.slug])


def test_units_preview_then_confirm(client, office, qianren):
    client.force_login(office)
    data = {"单位": [UNITS, ("金融部门类", "人行", "否", "是"), ("新类", "中行", "否", "否")]}
    preview = client.post(url("setup_units", qianren), {"file": xlsx("u.xlsx", data)})
    text = preview.content.decode()
    assert "预览(尚未保存)" in text and "人行" in text and "新类" in text
    assert not CampaignUnit.objects.exists()
    upload = preview.context["upload"]
    done = client.post(url("setup_units", qianren), {"upload": upload.pk})
    assert done.status_code == 302 and done["Location"] == url("campaign_detail", qianren)
    assert set(CampaignUnit.objects.values_list("name", flat=True)) == {"人行", "中行"}
    assert AuditLog.objects.filter(action="units.import", user=office).exists()
    again = client.post(url("setup_units", qianren), {"upload": upload.pk}, follow=True)
    assert "该文件已确认导入" in again.content.decode()


def test_units_discard_and_bad_file_import_nothing(client, office, qianren):
    client.force_login(office)
    good = {"单位": [UNITS, ("金融部门类", "人行", "否", "是")]}
    upload = client.post(url("setup_units", qianren), {"file": xlsx("u.xlsx", good)}).context[
        "upload"]
    page = client.post(url("setup_units", qianren), {"upload": upload.pk, "discard": "1"},
                       follow=True).content.decode()
    assert "已放弃这次上传" in page
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.DISCARDED
    bad = {"单位": [UNITS, ("金融部门类", "人行", "否", "不知道")]}
    page = client.post(url("setup_units", qianren), {"file": xlsx("u.xlsx", bad)}).content.decode()
    assert "第2行第D列" in page and "未导入任何数据" in page
    assert not CampaignUnit.objects.exists()


def test_representatives_preview_unknown_columns_then_confirm(client, office, qianren):
    client.force_login(office)
    rows = [(f"代表{i}", "服务对象", "东区", "", f"1380000000{i}", "是") for i in range(3)]
    data = {"代表": [(*REPS, "备注"), *[(*r, "x") for r in rows]]}
    page = client.get(url("setup_representatives", qianren)).content.decode()
    assert "姓名" in page and "代表类别" in page  # HEADER_HELP on the page
    preview = client.post(url("setup_representatives", qianren), {"file": xlsx("r.xlsx", data)})
    text = preview.content.decode()
    assert "代表2" in text and 'id="rep-match"' in text and "忽略这些列" in text
    upload = preview.context["upload"]
    # Unknown columns not ignored: nothing imported, the preview again, asking.
    refused = client.post(url("setup_representatives", qianren), {"upload": upload.pk})
    assert refused.status_code == 200 and "尚未导入" in refused.content.decode()
    assert not Representative.objects.exists()
    done = client.post(url("setup_representatives", qianren),
                       {"upload": upload.pk, "ignore_unknown": "1"})
    assert done.status_code == 302 and Representative.objects.count() == 3


def test_representatives_bad_cell_is_named(client, office, qianren):
    client.force_login(office)
    data = {"代表": [REPS, ("张三", "没有这类", "", "", "", "否")]}
    page = client.post(url("setup_representatives", qianren),
                       {"file": xlsx("r.xlsx", data)}).content.decode()
    assert "第2行第B列" in page and not Representative.objects.exists()


def rules_post(campaign, **over):  # type: ignore[no-untyped-def]
    data: dict[str, str] = {"threshold": str(campaign.threshold)}
    for c in campaign.categories.all():
        data[f"winners_{c.pk}"], data[f"last_place_{c.pk}"] = str(c.winners), str(c.last_place)
    for p in campaign.phases.all():
        data[f"start_{p.pk}"] = p.start.isoformat() if p.start else ""
        data[f"end_{p.pk}"] = p.end.isoformat() if p.end else ""
    for name in ("notice_from", "notice_to"):
        value = getattr(campaign, name)
        data[name] = value.isoformat() if value else ""
    for name in ("objection_phone", "objection_address", "objection_email", "issuer"):
        data[name] = getattr(campaign, name)
    for g in campaign.groups.all():
        data[f"share_{g.pk}"] = str(g.target_share) if g.target_share is not None else ""
        data[f"weight_{g.pk}"] = str(g.weight) if g.weight is not None else ""
        if g.target_is_minimum:
            data[f"minimum_{g.pk}"] = "on"
    data.update(over)
    return data


def test_rules_form_saves_and_audits(client, office, qianren):
    client.force_login(office)
    category = qianren.categories.first()
    phase = qianren.phases.first()
    assert category is not None and phase is not None
    page = client.get(url("setup_rules", qianren)).content.decode()
    assert f'name="winners_{category.pk}"' in page and f'name="start_{phase.pk}"' in page
    before = AuditLog.objects.count()
    bad = client.post(url("setup_rules", qianren), rules_post(
        qianren, **{f"start_{phase.pk}": "2026-03-10", f"end_{phase.pk}": "2026-03-01"}))
    assert bad.status_code == 200 and "结束日期不能早于开始日期" in bad.content.decode()
    response = client.post(url("setup_rules", qianren), rules_post(
        qianren, threshold="0.85", **{
            f"winners_{category.pk}": "3", f"last_place_{category.pk}": "2",
            f"start_{phase.pk}": "2026-03-01", f"end_{phase.pk}": "2026-03-31"}))
    assert response.status_code == 302
    qianren.refresh_from_db()
    category.refresh_from_db()
    phase.refresh_from_db()
    assert qianren.threshold == Decimal("0.85")
    assert (category.winners, category.last_place) == (3, 2)
    assert str(phase.start) == "2026-03-01" and str(phase.end) == "2026-03-31"
    entries = AuditLog.objects.order_by("id")[before:]
    assert {e.action for e in entries} == {"campaign.update", "category.update", "phase.update"}
    assert len(entries) == 3 and all(e.user_id == office.pk for e in entries)
    entry = AuditLog.objects.get(action="category.update")
    assert entry.before["winners"] != 3 and entry.after["winners"] == 3


def test_rules_form_saves_the_notice_fields_so_publishing_needs_no_admin(client, office, qianren):
    from scoring.publication import check_publish

    client.force_login(office)
    page = client.get(url("setup_rules", qianren)).content.decode()
    for name in ("notice_from", "notice_to", "objection_phone", "objection_address",
                 "objection_email", "issuer"):
        assert f'name="{name}"' in page, name
    assert "公示与异议受理" in page
    bad = client.post(url("setup_rules", qianren), rules_post(
        qianren, notice_from="2026-05-10", notice_to="2026-05-01", objection_email="x"))
    text = bad.content.decode()
    assert bad.status_code == 200 and "公示截止日期不能早于开始日期" in text
    assert set(bad.context["form"].errors) == {"notice_to", "objection_email"}
    before = AuditLog.objects.count()
    response = client.post(url("setup_rules", qianren), rules_post(
        qianren, notice_from="2026-05-01", notice_to="2026-05-07",
        objection_phone="0571-12345678", objection_email="pingyi@example.gov.cn",
        issuer="某某市评议办"))
    assert response.status_code == 302
    qianren.refresh_from_db()
    assert (str(qianren.notice_from), str(qianren.notice_to)) == ("2026-05-01", "2026-05-07")
    assert qianren.objection_phone == "0571-12345678" and qianren.issuer == "某某市评议办"
    assert qianren.objection_email == "pingyi@example.gov.cn" and qianren.objection_address == ""
    entry = AuditLog.objects.order_by("id")[before:].get()
    assert entry.action == "campaign.update" and entry.user_id == office.pk
    assert entry.after["issuer"] == "某某市评议办" and entry.before["issuer"] == ""
    # Only the status is left between this campaign and its 公示.
    assert not [p for p in check_publish(qianren) if "评议活动中填写" in str(p)]
    # Saved again unchanged: nothing audited, the form shows the saved values.
    client.post(url("setup_rules", qianren), rules_post(qianren))
    assert AuditLog.objects.count() == before + 1
    assert 'value="2026-05-01"' in client.get(url("setup_rules", qianren)).content.decode()


def test_rules_form_sets_the_groups_quotas_and_the_composition_check_follows(
    client, office, qianren
):
    from campaigns.representatives import composition

    groups = list(qianren.groups.all())
    assert len(groups) >= 2
    first, second = groups[0], groups[1]
    Representative.objects.bulk_create(
        [Representative(campaign=qianren, group=first, name=f"甲{i}") for i in range(3)]
        + [Representative(campaign=qianren, group=second, name="乙")]
    )
    client.force_login(office)
    page = client.get(url("setup_rules", qianren)).content.decode()
    assert f'name="share_{first.pk}"' in page and first.name in page
    over = {f"share_{second.pk}": "0.5", f"minimum_{second.pk}": "on",
            f"share_{first.pk}": ""}
    response = client.post(url("setup_rules", qianren), rules_post(qianren, **over))
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.target_share == Decimal("0.5") and second.target_is_minimum
    assert AuditLog.objects.filter(action="representativegroup.update", user=office).exists()
    # 1 of 4 is 25%, under the new minimum of 50%: the check says so, naming the group.
    assert any(second.name in w for w in composition(qianren).warnings)
    bad = client.post(url("setup_rules", qianren), rules_post(
        qianren, **{f"share_{second.pk}": "1.5"}))
    assert bad.status_code == 200
    second.refresh_from_db()
    assert second.target_share == Decimal("0.5")


def test_checklist_links_to_these_pages_not_the_admin(client, office, qianren):
    client.force_login(office)
    page = client.get(url("campaign_detail", qianren)).content.decode()
    for name in ("setup_units", "setup_representatives", "setup_rules", "setup_config"):
        assert url(name, qianren) in page
    # The page's own links (the navbar's 管理后台 stays for repairs).
    assert "/admin/" not in page.split("<main", 1)[1]
    checklist = page.split('id="checklist"')[1].split("</ol>")[0]
    for step in ("scale", "categories", "threshold", "phases", "units", "representatives"):
        item = checklist.split(f'data-step="{step}"')[1].split("</li>")[0]
        assert "/admin/" not in item, step


@pytest.mark.parametrize("who", ["leader", "clerk"])
def test_leader_and_clerk_get_403(client, request, qianren, who):
    client.force_login(request.getfixturevalue(who))
    for name in ("setup_units", "setup_representatives", "setup_rules", "setup_config"):
        assert client.get(url(name, qianren)).status_code == 403
    assert client.post(url("setup_rules", qianren), rules_post(qianren, threshold="0.5")
                       ).status_code == 403
    qianren.refresh_from_db()
    assert qianren.threshold != Decimal("0.5")


def test_another_offices_campaign_is_404(client, office, campaign_factory):
    other = campaign_factory("qianren", office=Office.objects.create(name="别的办公室"))
    client.force_login(office)
    for name in ("setup_units", "setup_representatives", "setup_rules", "setup_config"):
        assert client.get(url(name, other)).status_code == 404
    assert client.post(url("setup_rules", other), rules_post(other, threshold="0.5")
                       ).status_code == 404
    assert Campaign.objects.get(pk=other.pk).threshold != Decimal("0.5")


def test_units_locked_once_ballots_exist_but_quotas_are_not(client, office, qianren):
    from ballots.services import ballot_create

    add_units(qianren, {"地方管理部门类": ["甲局"]})
    ballot_create(campaign=qianren, source="online", answers=[])
    client.force_login(office)
    data = {"单位": [UNITS, ("金融部门类", "人行", "否", "是")]}
    page = client.post(url("setup_units", qianren), {"file": xlsx("u.xlsx", data)})
    assert "已锁定" in page.content.decode() and "upload" not in page.context
    category = qianren.categories.get(name="地方管理部门类")
    response = client.post(url("setup_rules", qianren), rules_post(
        qianren, threshold="0.8", **{f"winners_{category.pk}": "5"}))
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.winners == 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_setup_pages_fit_a_phone_and_the_desktop(
    live_server, browser, office, qianren, tmp_path  # noqa: F811
):
    path = tmp_path / "units.xlsx"
    path.write_bytes(xlsx_bytes({"单位": [UNITS, ("金融部门类", "中国人民银行某某市中心支行", "否", "是")]}))
    for width in (1280, 360):
        page = logged_in(browser, live_server, office, width=width)
        for name in ("setup_config", "setup_rules", "setup_representatives", "setup_units"):
            page.goto(f"{live_server.url}{url(name, qianren)}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            shot(page, f"workspace-{name}-{width}", full_page=True)
        # By keyboard: the file field, then upload and preview.
        page.locator("input[type=file]").set_input_files(str(path))
        page.locator("input[type=file]").focus()
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector("#preview")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"workspace-setup_units-preview-{width}", full_page=True)
        page.context.close()
