"""Validation of what office staff configure: weights, options, quotas, threshold."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.test_campaign_lock import inline_post


@pytest.fixture
def post(client, office, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[qianren.pk])

    def send(**changes):
        return client.post(url, inline_post(qianren, **changes))

    return send


def test_negative_weight_refused(post, qianren):
    response = post(**{"options-1-weight": "-1"})
    assert response.status_code == 200
    assert qianren.options.get(label="基本满意").weight == 1


def test_fewer_than_two_options_refused(post, qianren):
    deletes = {f"options-{i}-DELETE": "on" for i in range(1, 4)}
    response = post(**deletes)
    assert "至少需要两项" in response.content.decode()
    assert qianren.options.count() == 4


def test_more_options_than_a_ballot_can_store_refused(post, qianren):
    extra = {"options-TOTAL_FORMS": "15"}
    for i in range(4, 15):
        extra |= {
            f"options-{i}-campaign": str(qianren.pk),
            f"options-{i}-order": str(i),
            f"options-{i}-label": f"等次{i}",
            f"options-{i}-weight": "0",
        }
    response = post(**extra)
    assert "评价等次最多 14 项" in response.content.decode()
    assert qianren.options.count() == 4
    del extra["options-14-label"], extra["options-14-order"], extra["options-14-weight"]
    extra["options-TOTAL_FORMS"] = "14"
    assert post(**extra).status_code == 302
    assert qianren.options.count() == 14


def test_negative_quota_refused(post, qianren):
    response = post(**{"categories-0-winners": "-2"})
    assert response.status_code == 200
    assert qianren.categories.get(order=0).winners == 5


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_threshold_outside_0_1_refused(post, qianren, value):
    response = post(threshold=value)
    assert response.status_code == 200
    qianren.refresh_from_db()
    assert str(qianren.threshold) == "0.9000"


def test_valid_edit_passes(post, qianren):
    assert post(threshold="1").status_code == 302
