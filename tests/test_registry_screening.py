"""Screening (甄别审核, issue 22): each policy limit of document 003 二(二)2 is a check that
flags an activity for cancellation with the reason; nothing else is flagged."""

from __future__ import annotations

import pytest

from registry.screening import CHECKS, screening_flags
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    data,
)


def codes(**kw):  # type: ignore[no-untyped-def]
    return [f.code for f in screening_flags(data(**kw))]


def test_an_activity_with_a_documented_legal_basis_and_no_burden_is_not_flagged():
    for basis in ("law", "regulation", "central", "provincial"):
        assert codes(basis_kind=basis) == []


@pytest.mark.parametrize("basis", ["local", "none"])
def test_no_basis_in_law_regulation_central_document_or_approval_is_flagged(basis):
    flags = screening_flags(data(basis_kind=basis))
    assert [f.code for f in flags] == ["no_basis"]
    assert "没有法律、行政法规、中央文件明确规定" in flags[0].reason
    assert flags[0].clause == "二(二)2(2)"


def test_a_claimed_basis_without_its_document_is_flagged():
    flags = screening_flags(data(basis_kind="central", basis_document="  "))
    assert [f.code for f in flags] == ["basis_undocumented"]
    assert "中央文件" in flags[0].reason


def test_fees_and_burdens_on_enterprises_and_the_public_are_flagged():
    assert codes(charges_fees=True) == ["burden"]
    assert codes(asks_contributions=True) == ["burden"]
    both = screening_flags(data(charges_fees=True, asks_contributions=True))
    assert len(both) == 1 and "收费" in both[0].reason and "出钱出物出工" in both[0].reason


def test_improper_payments_are_flagged():
    assert codes(improper_payments=True) == ["improper_payments"]


@pytest.mark.parametrize("system", ["party", "congress", "cppcc", "court", "procuratorate"])
@pytest.mark.parametrize("level", ["city", "below"])
def test_a_city_or_lower_party_congress_cppcc_court_or_procuratorate_own_activity_is_flagged(
        system, level):
    flags = screening_flags(data(system=system, level=level, basis_kind="local"))
    assert [f.code for f in flags] == ["no_basis", "self_established"]
    assert "不再保留自行设置" in flags[1].reason and flags[1].clause == "二(二)2(3)"


def test_the_own_setting_limit_spares_other_systems_higher_levels_and_legal_bases():
    assert codes(system="government", level="city", basis_kind="local") == ["no_basis"]
    assert codes(system="people_org", level="below", basis_kind="none") == ["no_basis"]
    assert codes(system="party", level="province", basis_kind="local") == ["no_basis"]
    assert codes(system="court", level="city", basis_kind="provincial") == []


def test_every_check_can_fire_at_once_in_the_documented_order():
    assert codes(system="party", level="city", basis_kind="none", charges_fees=True,
                 improper_payments=True) == ["no_basis", "burden", "improper_payments",
                                             "self_established"]
    assert set(CHECKS) >= {"no_basis", "basis_undocumented", "burden", "improper_payments",
                           "self_established"}
