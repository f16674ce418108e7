"""The demo's cleanup of 评比达标表彰项目 (issue 22, document 003): last year's
清理规范评比达标表彰活动 of the city, finished and published — twenty activities of ten
organisers (党委, 人大, 政协, 法院, 检察院, 人民团体, 政府部门) registered by the departments (two
of them through their own accounts), one registration withdrawn, one self-inspection returned
and submitted again, screened and decided over the four rounds of the preset with decisions
that change (a plenary overrides the office, the higher level's feedback overrides the
plenary), merges into surviving activities, the retained list published (公示). The demo's
千人评议机关 campaigns run under the retained activity that registers them.

Finished (完成), not in progress: a cleanup in progress freezes the creation of campaigns,
and the demo makes its campaigns before this (and again, when they are missing).

Logins: jiwei (清理办公室), jiaoyuju (举办单位: 市教育局), tuanshiwei (举办单位: 团市委), with the
demo's password."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from campaigns.models import Campaign
from core.audit import audit
from core.roles import CLEANUP_OFFICE, DEPARTMENT
from registry.models import Activity, Cleanup, Organiser
from registry.publication import cleanup_publish, notice_save
from registry.services import (
    ActivityData,
    account_link,
    activity_register,
    activity_withdraw,
    cleanup_create,
    cleanup_set_status,
    decision_record,
    organiser_add,
    organiser_return,
    organiser_submit,
    round_carry_forward,
    round_close,
)

SLUG = "pingbi-2025"
USERS = (("jiwei", CLEANUP_OFFICE, True, None), ("jiaoyuju", DEPARTMENT, False, "市教育局"),
         ("tuanshiwei", DEPARTMENT, False, "团市委"))

# (organiser, name, system, kind, targets, frequency, basis kind, basis document, fees,
#  contributions, proposal, merge into, reason)
ACTIVITIES: tuple[tuple[Any, ...], ...] = (
    ("市纪委监委", "千人评议机关活动", "party", "appraisal", "system", "yearly", "provincial",
     "省纠风办《关于开展民主评议政风行风工作的通知》(省纠办〔2008〕5号)", "", "", "keep", "",
     "群众评议机关作风,促进机关效能建设,经省纠风办同意"),
    ("市委宣传部", "全市精神文明建设先进单位评选", "party", "commendation", "system grassroots",
     "biennial", "central", "中共中央办公厅文件(中办发〔2005〕12号)", "", "", "keep", "",
     "按中央文件开展"),
    ("市委宣传部", "全市优秀新闻作品评比", "party", "appraisal", "system", "yearly", "local",
     "市委宣传部文件", "", "", "keep", "", "推动新闻宣传工作"),
    ("市委宣传部", "全市宣传思想工作先进集体表彰", "party", "commendation", "system", "yearly",
     "local", "", "", "", "merge", "全市精神文明建设先进单位评选", "内容与精神文明建设表彰重叠"),
    ("市人民法院", "全市法院系统优秀裁判文书评比", "court", "appraisal", "system", "yearly",
     "local", "市法院文件", "", "", "keep", "", "提高裁判文书质量"),
    ("市人民法院", "全市法院先进集体和先进个人表彰", "court", "commendation", "system",
     "triennial", "provincial", "省高级人民法院、省人力资源和社会保障厅批复", "", "", "keep", "",
     "经省批准"),
    ("市人民检察院", "全市检察机关十佳公诉人评选", "procuratorate", "appraisal", "system",
     "biennial", "local", "", "", "", "cancel", "", ""),
    ("市总工会", "全市五一劳动奖章评选", "people_org", "commendation",
     "system grassroots enterprises", "yearly", "central", "中华全国总工会文件(总工发〔2004〕9号)",
     "", "", "keep", "", "全国总工会部署"),
    ("市总工会", "全市职工职业技能竞赛达标企业评比", "people_org", "compliance", "enterprises",
     "yearly", "local", "市总工会文件", "fees", "", "keep", "", "促进职工技能提升"),
    ("团市委", "全市青年文明号评选", "people_org", "commendation", "grassroots enterprises",
     "biennial", "central", "共青团中央文件(中青发〔2006〕3号)", "", "", "keep", "",
     "团中央部署"),
    ("团市委", "全市青年岗位能手评比", "people_org", "appraisal", "grassroots enterprises",
     "yearly", "local", "团市委文件", "", "", "keep", "", "激励青年岗位建功"),
    ("市妇联", "全市三八红旗手评选", "people_org", "commendation", "grassroots", "yearly",
     "central", "全国妇联文件(妇字〔2003〕20号)", "", "", "keep", "", "全国妇联部署"),
    ("市妇联", "全市五好文明家庭评比", "people_org", "appraisal", "grassroots", "yearly",
     "local", "", "", "contributions", "keep", "", "弘扬家庭美德"),
    ("市教育局", "全市优秀教师表彰", "government", "commendation", "system", "yearly",
     "provincial", "省人民政府批复(省政复〔2004〕8号)", "", "", "keep", "", "激励教师,经省批准"),
    ("市教育局", "全市师德标兵评选", "government", "commendation", "system", "yearly", "local",
     "", "", "", "merge", "全市优秀教师表彰", "与优秀教师表彰对象相同"),
    ("市教育局", "全市校园文化建设达标学校评估", "government", "compliance", "grassroots",
     "biennial", "local", "市教育局文件", "fees", "", "cancel", "", ""),
    ("市卫健委", "全市卫生先进单位评比", "government", "appraisal", "grassroots enterprises",
     "yearly", "provincial", "省爱国卫生运动委员会批复", "", "", "keep", "", "经省爱卫会批准"),
    ("市卫健委", "全市卫生系统优质服务窗口评比", "government", "appraisal", "system", "yearly",
     "local", "市卫健委文件", "", "", "keep", "", "改进窗口服务"),
    ("市人大常委会办公室", "全市人大代表建议办理先进单位表彰", "congress", "commendation",
     "system", "yearly", "local", "市人大常委会主任会议纪要", "", "", "keep", "",
     "促进代表建议办理"),
    ("市政协办公室", "全市优秀政协提案评选", "cppcc", "appraisal", "system", "yearly", "local",
     "", "", "", "cancel", "", ""),
)

# Changes to the carried-forward decisions, per round: (activity, decision, into, reason).
ROUNDS: tuple[tuple[tuple[str, str, str, str], ...], ...] = (
    (  # 联席会议办公室甄别审核
        ("全市优秀新闻作品评比", "cancel", "", "市级党委部门自行设置,无中央、省依据,拟撤销"),
        ("全市法院系统优秀裁判文书评比", "cancel", "", "市级法院不再保留自行设置的项目"),
        ("全市职工职业技能竞赛达标企业评比", "cancel", "", "向企业收取报名费,拟撤销"),
        ("全市青年岗位能手评比", "merge", "全市青年文明号评选", "对象与青年文明号相近,拟合并"),
        ("全市五好文明家庭评比", "cancel", "", "要求基层出钱出物,拟撤销"),
        ("全市卫生系统优质服务窗口评比", "cancel", "", "无中央、省依据,拟撤销"),
        ("全市人大代表建议办理先进单位表彰", "cancel", "", "市级人大不再保留自行设置的项目"),
    ),
    (  # 联席会议第二次全体会议
        ("全市青年岗位能手评比", "keep", "", "全体会议认为确有需要,暂予保留,报上级审核"),
        ("全市卫生系统优质服务窗口评比", "merge", "全市卫生先进单位评比",
         "全体会议决定并入卫生先进单位评比"),
    ),
    (  # 上级联席会议办公室反馈
        ("全市青年岗位能手评比", "merge", "全市青年文明号评选", "上级反馈:无省批准依据,应予合并"),
    ),
    (),  # 联席会议第三次全体会议: as the feedback
)


def _users(password: str) -> dict[str, User]:
    users = {}
    for username, role, staff, _org in USERS:
        user, _created = User.objects.get_or_create(username=username)
        user.is_staff = staff
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        users[username] = user
    return users


def _data(row: tuple[Any, ...], made: dict[str, Activity]) -> ActivityData:
    (_org, name, system, kind, targets, freq, basis, doc, fees, contrib, proposal, into,
     reason) = row
    return ActivityData(
        name=name, system=system, kind=kind, frequency=freq, basis_kind=basis,
        basis_document=doc, proposal=proposal, proposal_reason=reason, level="city",
        for_system="system" in targets, for_grassroots="grassroots" in targets,
        for_enterprises="enterprises" in targets, charges_fees=bool(fees),
        asks_contributions=bool(contrib), first_year=2003 + len(name) % 7,
        proposal_merge_into=made[into] if into else None)


@transaction.atomic
def _build(users: dict[str, User]) -> Cleanup:
    office = users["jiwei"]
    cleanup = cleanup_create(preset="pingbi", slug=SLUG, name="2025年清理规范评比达标表彰活动",
                             year=2025, office="市清理规范评比达标表彰工作联席会议办公室(市纪委纠风室)",
                             user=office)
    cleanup = cleanup_set_status(cleanup=cleanup, status=Cleanup.Status.SELF_CHECK, user=office)
    organisers: dict[str, Organiser] = {}
    for row in ACTIVITIES:
        if row[0] not in organisers:
            organisers[row[0]] = organiser_add(cleanup=cleanup, name=row[0], user=office)
    by_org = {org: users[u] for u, _r, _s, org in USERS if org}
    for name, user in by_org.items():
        account_link(organiser=organisers[name], account=user, user=office)
    made: dict[str, Activity] = {}
    for row in ACTIVITIES:
        who = by_org.get(row[0], office)
        made[row[1]] = activity_register(organiser=organisers[row[0]], data=_data(row, made),
                                         user=who, by_office=who is office)
    twice = activity_register(organiser=organisers["市教育局"], user=users["jiaoyuju"], data=_data(
        ("市教育局", "优秀教师表彰(重复)", "government", "commendation", "system", "yearly",
         "provincial", "", "", "", "keep", "", "同上"), made))
    activity_withdraw(activity=twice, reason="与“全市优秀教师表彰”重复登记",
                      user=users["jiaoyuju"])
    for org in organisers.values():
        organiser_submit(organiser=org, user=by_org.get(org.name, office))
    organiser_return(organiser=organisers["市总工会"], reason="请补充报名费收取情况",
                     user=office)
    organiser_submit(organiser=organisers["市总工会"], user=office)
    cleanup = cleanup_set_status(cleanup=cleanup, status=Cleanup.Status.REVIEW, user=office)
    for rnd, changes in zip(cleanup.rounds.all(), ROUNDS, strict=True):
        for name, decision, into, reason in changes:
            decision_record(round=rnd, activity=made[name], decision=decision,
                            merged_into=made[into] if into else None, reason=reason,
                            user=office)
        round_carry_forward(round=rnd, user=office)
        round_close(round=rnd, user=office)
    cleanup = notice_save(cleanup=cleanup, user=office, notice_from=dt.date(2025, 5, 12),
                          notice_to=dt.date(2025, 5, 18), objection_phone="0514-87654321",
                          objection_address="市纪委纠风室(市行政中心3号楼)",
                          issuer="市清理规范评比达标表彰工作联席会议办公室")
    cleanup = cleanup_publish(cleanup=cleanup, user=office)
    cleanup = cleanup_set_status(cleanup=cleanup, status=Cleanup.Status.DONE, user=office)
    # The demo's 千人评议机关 campaigns run under the retained activity that registers them.
    activity = made["千人评议机关活动"]
    for campaign in Campaign.objects.filter(slug__in=["qianren-2025", "qianren-2026"],
                                            activity=None):
        campaign.activity = activity
        campaign.save(update_fields=["activity"])
        audit(user=office, action="campaign.activity", obj=campaign,
              after={"activity": activity.pk}, reason="演示:关联登记项目")
    return cleanup


def make_registry_demo(*, password: str, stdout: Any) -> None:
    """Build the cleanup once (kept when it exists); the three logins get the demo password."""
    users = _users(password)
    if not Cleanup.objects.filter(slug=SLUG).exists():
        cleanup = _build(users)
        stdout.write(f"已建立清理工作 {cleanup.slug}:{cleanup.activities.filter(status=Activity.Status.REGISTERED).count()} 个登记项目,"
                     f"公示页 /p/reg/{cleanup.slug}/")
    stdout.write(f"清理规范评比达标表彰:/reg/ ,账号 {', '.join(u for u, *_r in USERS)}"
                 "(密码同下)")
