"""Unit import in the admin: a preview first, nothing saved until confirmed."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import CampaignUnit
from core.models import AuditLog, StagedUpload
from tests.helpers import xlsx_bytes

HEADER = ("类别", "单位", "垂直管理", "一票否决")


@pytest.fixture(autouse=True)
def _upload_root(settings, tmp_path):
    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"


def upload_file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_preview_then_confirm(client, office, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_import_units", args=[qianren.pk])
    data = xlsx_bytes({"单位": [HEADER, ("金融部门类", "人行", "否", "是"),
                               ("金融部门类", "中行", "否", "否")]})
    preview = client.post(url, {"file": upload_file("units.xlsx", data)})
    text = preview.content.decode()
    assert "预览(尚未保存)" in text and "人行" in text and "中行" in text
    assert not CampaignUnit.objects.exists()  # nothing saved by the preview
    upload = preview.context["upload"]
    assert f'name="upload" value="{upload.pk}"' in text
    done = client.post(url, {"upload": upload.pk})
    assert done.status_code == 302
    assert set(CampaignUnit.objects.values_list("name", "vetoed")) == {("人行", True), ("中行", False)}
    assert AuditLog.objects.filter(action="units.import", user=office).exists()
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.APPLIED and upload.kind == "units"
    # Confirmation is single-use: replaying it imports nothing more.
    again = client.post(url, {"upload": upload.pk}, follow=True)
    assert "该文件已确认导入" in again.content.decode()
    assert CampaignUnit.objects.count() == 2


def test_discard_imports_nothing_and_cannot_be_confirmed_after(
    client, office, qianren, django_capture_on_commit_callbacks
):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_import_units", args=[qianren.pk])
    data = xlsx_bytes({"单位": [HEADER, ("金融部门类", "人行", "否", "是")]})
    upload = client.post(url, {"file": upload_file("units.xlsx", data)}).context["upload"]
    assert upload.path.is_file()
    # The file goes once the discarding commits (tests run inside a transaction).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"upload": upload.pk, "discard": "1"}, follow=True)
    page = response.content.decode()
    assert "已放弃这次上传" in page
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.DISCARDED and not upload.path.exists()
    page = client.post(url, {"upload": upload.pk}, follow=True).content.decode()
    assert "预览已过期" in page and not CampaignUnit.objects.exists()


def test_upload_staged_for_another_campaign_is_refused(client, office, qianren, campaign_factory):
    client.force_login(office)
    other = campaign_factory("qianren")
    data = xlsx_bytes({"单位": [HEADER, ("金融部门类", "人行", "否", "是")]})
    url = reverse("admin:campaigns_campaign_import_units", args=[qianren.pk])
    upload = client.post(url, {"file": upload_file("units.xlsx", data)}).context["upload"]
    other_url = reverse("admin:campaigns_campaign_import_units", args=[other.pk])
    page = client.post(other_url, {"upload": upload.pk}, follow=True).content.decode()
    assert "预览已过期" in page and not CampaignUnit.objects.exists()


def test_errors_are_shown_naming_row_and_column(client, office, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_import_units", args=[qianren.pk])
    data = xlsx_bytes({"单位": [HEADER, ("金融部门类", "人行", "否", "不知道")]})
    page = client.post(url, {"file": upload_file("units.xlsx", data)}).content.decode()
    assert "第2行第D列" in page and "未导入任何数据" in page
    assert not CampaignUnit.objects.exists()


def test_wrong_extension_and_leader_refused(client, office, leader, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_import_units", args=[qianren.pk])
    page = client.post(url, {"file": upload_file("units.csv", b"a,b")}).content.decode()
    assert "请上传 .xlsx 文件" in page
    client.force_login(leader)
    assert client.get(url).status_code == 302  # not staff: sent to the admin login


def test_create_from_preset_in_admin(client, office):
    client.force_login(office)
    page = client.get(reverse("admin:campaigns_campaign_preset")).content.decode()
    assert "万人评议机关" in page
    response = client.post(reverse("admin:campaigns_campaign_preset"),
                           {"preset": "zhengfeng", "name": "政风行风", "slug": "zf", "year": 2026})
    assert response.status_code == 302
    from campaigns.models import Campaign
    assert Campaign.objects.get(slug="zf").options.count() == 4
