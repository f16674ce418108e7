"""Fixtures and helpers of the registry tests (issue 22): a cleanup made from the 003 preset,
the joint meeting office's user, a department account, and activities registered quickly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_user

HEADER = ["序号", "举办单位", "项目名称", "系统", "举办层级", "类型", "面向对象", "举办周期",
          "依据类别", "依据文件及文号", "收取费用", "要求出钱出物出工", "首次举办年份", "处理意见",
          "合并到", "理由"]


def data(name: str = "全市先进集体评选", **kw: Any):  # type: ignore[no-untyped-def]
    from registry.services import ActivityData

    values: dict[str, Any] = {
        "name": name, "system": "government", "kind": "commendation", "frequency": "yearly",
        "basis_kind": "central", "basis_document": "中办发〔2007〕1号", "proposal": "keep",
        "proposal_reason": "推动工作确有需要", "for_system": True}
    values.update(kw)
    return ActivityData(**values)


def register(organiser, name: str = "全市先进集体评选", **kw: Any):  # type: ignore[no-untyped-def]
    from registry.services import activity_register

    return activity_register(organiser=organiser, data=data(name, **kw), by_office=True)


@pytest.fixture(name="cleanup")
def cleanup_fixture(db):  # type: ignore[no-untyped-def]
    from registry.services import cleanup_create

    return cleanup_create(preset="pingbi", slug="pb2026", name="2026年清理规范评比达标表彰活动",
                          year=2026, office="市联席会议办公室(市纪委纠风室)")


@pytest.fixture(name="jiwei")
def jiwei_fixture(db):  # type: ignore[no-untyped-def]
    from core.roles import CLEANUP_OFFICE

    return make_user("jiwei", CLEANUP_OFFICE, staff=True)


@pytest.fixture(name="organiser")
def organiser_fixture(cleanup):  # type: ignore[no-untyped-def]
    from registry.services import organiser_add

    return organiser_add(cleanup=cleanup, name="市教育局")


@pytest.fixture(name="dept")
def dept_fixture(organiser):  # type: ignore[no-untyped-def]
    from core.roles import DEPARTMENT
    from registry.services import account_link

    user = make_user("jiaoyuju", DEPARTMENT)
    account_link(organiser=organiser, account=user)
    return user


def to_status(cleanup, *statuses: str):  # type: ignore[no-untyped-def]
    from registry.services import cleanup_set_status

    for s in statuses:
        cleanup = cleanup_set_status(cleanup=cleanup, status=s)
    return cleanup
