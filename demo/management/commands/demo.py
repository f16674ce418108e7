"""`manage.py demo`: the 千人评议机关 campaign of document 000, with synthetic ballots, and beside
it a small 两评一树 campaign of document 001 (a leadership team and five leaders, rated on
工作评价 and 作风评价 by the 内部评议 and 社会评议 pools, online and on paper).

Two years of the series are made (2025 closed, 2026 linked to it) so history and
连续两年末位 have something to show. The generator is seeded; the seed is printed so a run can
be reproduced exactly. Online ballots are cast as representatives cast them: each with a code
of the campaign, through ballot_submit, so the codes page shows those codes used; the 2025
campaign is then closed through campaign_set_status, which settles its codes.

The logins' password is kept in private/demo-logins.txt (demo/logins.py): running the command
again prints the same logins; --reset-passwords draws a new password.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import secrets
from decimal import Decimal
from typing import Any

import openpyxl
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from assessments.config import assessment_create, section_link
from assessments.entries import entry_review, entry_submit
from assessments.imports import units_import
from assessments.models import Assessment, Entry, Section
from assessments.presets import preset_config
from ballots.answers import KIND_OPTION, KIND_SPOILED, Storage
from ballots.models import AccessCode, Ballot, Comment
from ballots.online.codes import codes_for_representatives, codes_unnamed, used_code_ids
from ballots.online.submit import ballot_submit
from ballots.services import Answer, Layout
from ballots.validity import refresh_serial_validity
from campaigns.configuration import save_audited
from campaigns.models import (
    Campaign,
    CampaignUnit,
    Office,
    Representative,
    RepresentativeGroup,
    SubjectKind,
    Unit,
)
from campaigns.services import (
    campaign_clone_for_next_year,
    campaign_create_from_preset,
    campaign_set_status,
)
from demo.data import (
    BASIS_004,
    CHANNELS,
    COMMENTS,
    DISTRICTS,
    GIVEN,
    LEADERS_001,
    RATERS_001,
    REJECT_REASON_004,
    SURNAMES,
    TEAM_001,
    UNITS_000,
)
from demo.logins import DEMO_USERS, ensure_logins, logins_path
from demo.registry_demo import make_registry_demo
from rectification.models import Case
from scoring.publication import results_publish
from scoring.verification import ballot_file_publish

SLUG = "qianren-2026"
_DEMO_PROBLEMS = "服务意识不强,个别窗口办事效率不高,群众反映“门好进、脸好看,事难办”。"
_DEMO_MEASURES = (("开展作风纪律专项教育", "办公室主任", 60),
                  ("梳理审批流程,压缩办理时限", "审批科科长", 120),
                  ("建立群众回访制度", "分管副局长", 170))
LIANGPING_SLUG = "liangping-2026"
ZUOFENG_SLUG = "zuofeng-2026"
OFFICE = "某市评议办公室"


class Command(BaseCommand):
    help = "Create the demo 千人评议机关 campaign (66 units of document 000) with synthetic ballots."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--ballots", type=int, default=600)
        parser.add_argument("--if-missing", action="store_true",
                            help="do nothing (but print the logins) when the demo exists")
        parser.add_argument("--reset-passwords", action="store_true",
                            help="give the demo logins a new password (otherwise it is kept)")

    def handle(self, *args: Any, **opts: Any) -> None:
        exists = Campaign.objects.filter(slug=SLUG).exists()
        liangping_exists = Campaign.objects.filter(slug=LIANGPING_SLUG).exists()
        zuofeng_exists = Assessment.objects.filter(slug=ZUOFENG_SLUG).exists()
        built = False
        seed = opts["seed"] if opts["seed"] is not None else secrets.randbelow(10**6)
        if not (exists and liangping_exists and zuofeng_exists):
            self.stdout.write(f"随机种子 seed = {seed}(用 --seed {seed} 可复现)")
        if exists and not opts["if_missing"]:
            self.stderr.write(f"演示活动已存在({SLUG}),不重复创建。")
        elif not exists:
            self.make(seed, opts["ballots"])
            built = True
        # Each campaign is made once: a demo made before the 两评一树 one existed gains it.
        if not liangping_exists:
            self.make_liangping(seed)
        password, fresh = ensure_logins(reset=opts["reset_passwords"] or built)
        self.join_office()
        # Made once as well, after the logins: its entries are reviewed by the office user.
        if not zuofeng_exists:
            self.make_zuofeng(seed)
        if not Case.objects.filter(campaign__slug="qianren-2025").exists():
            self.make_cases()
        make_registry_demo(password=password, stdout=self.stdout)
        self.stdout.write("")
        current = Campaign.objects.filter(slug=SLUG).first()
        spare = self.unused_code(current) if current else None
        if spare:
            self.stdout.write(f"未使用的演示评议码(可在 /v/{SLUG}/ 试投一票):{spare}")
        if fresh:
            self.stdout.write(f"演示账号(新密码,已保存在 {logins_path()};"
                              "用 --reset-passwords 重新生成):")
        else:
            self.stdout.write(f"演示账号(密码未变,见 {logins_path()};"
                              "用 --reset-passwords 重新生成):")
        for username, role, _staff in DEMO_USERS:
            self.stdout.write(f"  {role:<6} 用户名 {username:<8} 密码 {password}")

    @staticmethod
    def join_office() -> None:
        """The demo users belong to the demo office, whose campaigns they see (also for a demo
        made before offices existed: its campaigns are given the office)."""
        office, _ = Office.objects.get_or_create(name=OFFICE, defaults={"level": "city"})
        usernames = [username for username, _role, _staff in DEMO_USERS]
        office.members.add(*get_user_model().objects.filter(username__in=usernames))
        Campaign.objects.filter(
            slug__in=["qianren-2025", SLUG, LIANGPING_SLUG], office=None
        ).update(
            office=office)

    @staticmethod
    def unused_code(campaign: Campaign) -> str | None:
        if campaign.status != Campaign.Status.OPEN:
            return None
        used = used_code_ids(campaign)
        for pk, code in AccessCode.objects.filter(
            campaign=campaign, status=AccessCode.Status.ACTIVE
        ).order_by("pk").values_list("pk", "code"):
            if pk not in used:
                return code
        return None

    @transaction.atomic
    def make(self, seed: int, n_ballots: int) -> None:
        rng = random.Random(seed)
        office, _ = Office.objects.get_or_create(name=OFFICE, defaults={"level": "city"})
        last = campaign_create_from_preset(
            preset="qianren", slug="qianren-2025", name="2025年千人评议机关", year=2025,
            office=office,
        )
        for category in last.categories.all():
            for order, name in enumerate(UNITS_000[category.name]):
                unit, _ = Unit.objects.get_or_create(name=name)
                CampaignUnit.objects.create(campaign=last, unit=unit, category=category,
                                            name=name, order=order)
        # Satisfaction in real campaigns mostly lies between 85% and 99%: about a third of the
        # units fall under the 90% line (重点整改), as in the documents.
        quality = {name: rng.uniform(0.885, 1.0) for names in UNITS_000.values() for name in names}
        last = campaign_set_status(campaign=last, status=Campaign.Status.OPEN)
        self.fill(last, rng, n_ballots // 2, quality)
        # Closing settles the codes that voted (ballots/receivers.py), once this commits.
        last = campaign_set_status(campaign=last, status=Campaign.Status.CLOSED)
        # Published with its ballot file (issue 20): the 公示 page shows the fingerprint, the
        # receipt check and the three files with the recount program.
        save_audited(last, {
            "notice_from": dt.date(2025, 12, 20), "notice_to": dt.date(2025, 12, 26),
            "objection_phone": "0514-8765 4321", "objection_address": "市民主评议办公室(市行政中心3号楼)",
            "issuer": "市民主评议机关工作领导小组办公室"}, user=None)
        results_publish(campaign=last, user=None)
        ballot_file_publish(campaign=last, user=None)

        current = campaign_clone_for_next_year(
            source=last, slug=SLUG, name="2026年千人评议机关", year=2026
        )
        # A unit that was vetoed this year, so the rule shows.
        CampaignUnit.objects.filter(campaign=current, name="物价局").update(vetoed=True)
        # Units drift a little from one year to the next.
        quality = {k: min(1.0, max(0.8, v + rng.uniform(-0.03, 0.03))) for k, v in quality.items()}
        # Open, so representatives can still try the online ballot with a spare demo code.
        current = campaign_set_status(campaign=current, status=Campaign.Status.OPEN)
        self.fill(current, rng, n_ballots, quality)
        self.stdout.write(f"已创建 {last.slug} 与 {current.slug}:66 个被评单位,"
                          f"{n_ballots // 2} 与 {n_ballots} 份合成选票")

    def fill(self, campaign: Campaign, rng: random.Random, n: int,
             quality: dict[str, float]) -> None:
        """Synthetic paper and online ballots, with the awkward parts real ones have."""
        options = {o.label: o for o in campaign.options.all()}
        groups = list(campaign.groups.all()) or [
            RepresentativeGroup.objects.create(campaign=campaign, name="服务对象")
        ]
        units = list(campaign.units.all())
        paper: list[Ballot] = []
        storage = Storage.of(campaign)
        comments: list[Comment] = []
        # (group, channel, answers, comments) of each online ballot, cast below with a code.
        online: list[tuple[RepresentativeGroup, str, list[Answer], dict[int | None, str]]] = []
        for i in range(n):
            is_paper = i % 3 != 0
            channel, district = rng.choice(CHANNELS), rng.choice(DISTRICTS)
            group = groups[0] if rng.random() < 0.6 else groups[-1]
            blank_ballot = is_paper and i % 97 == 5
            cells = []
            for unit in units:
                q = quality[unit.name]
                r = rng.random()
                kind, option = KIND_OPTION, None
                if blank_ballot or r < 0.02:
                    option = options["弃权"]  # blank cell: blank_means = 弃权
                elif is_paper and r < 0.027:
                    kind = KIND_SPOILED
                elif r < 0.02 + q * 0.72:
                    option = options["满意"]
                elif r < 0.02 + q * 0.98:
                    option = options["基本满意"]
                else:
                    option = options["不满意"]
                cells.append((unit.id, None, option.id if option else None, kind))
            comment = (
                (rng.choice(units), rng.choice(COMMENTS)) if rng.random() < 0.08 else None
            )
            if not is_paper:
                answers = [Answer(unit_id=u, dimension_id=None, option_id=o)
                           for u, _d, o, _k in cells]
                online.append((group, channel, answers,
                               {comment[0].id: comment[1]} if comment else {}))
                continue
            ballot = Ballot(campaign=campaign, source=Ballot.Source.PAPER,
                            serial=f"{100001 + i:06d}", channel=channel, district=district,
                            group=group, answers=storage.encode(cells))
            if blank_ballot:
                ballot.is_blank = True
                ballot.status, ballot.invalid_reason = Ballot.Status.INVALID, "blank_ballot"
            if comment:
                comments.append(Comment(ballot=ballot, campaign=campaign, unit=comment[0],
                                        text=comment[1]))
            paper.append(ballot)
        # A photocopy: the first two paper ballots carry one serial, so both are invalid.
        if len(paper) > 1:
            paper[0].serial = paper[1].serial
        Ballot.objects.bulk_create(paper, batch_size=500)
        Comment.objects.bulk_create(comments, batch_size=500)
        refresh_serial_validity(campaign, [b.serial for b in paper])
        self.cast_online(campaign, groups, online)

    @staticmethod
    def cast_online(
        campaign: Campaign,
        groups: list[RepresentativeGroup],
        online: list[tuple[RepresentativeGroup, str, list[Answer], dict[int | None, str]]],
    ) -> None:
        """Codes for each group (a sixth more than vote, so some stay unused), and each online
        ballot cast with one of them, as the ballot page casts it."""
        pools: dict[int, list[str]] = {}
        for group in groups:
            needed = sum(1 for g, *_rest in online if g.pk == group.pk)
            made = codes_unnamed(campaign=campaign, count=needed + max(2, needed // 6),
                                 group=group, user=None)
            pools[group.pk] = [c.code for c in made]
        layout = Layout.of(campaign)
        for group, channel, answers, texts in online:
            ballot_submit(campaign=campaign, code=pools[group.pk].pop(0), answers=answers,
                          comments=texts, channel=channel, layout=layout)

    # --- 两评一树 (document 001) ---------------------------------------------------------------

    @transaction.atomic
    def make_liangping(self, seed: int) -> None:
        """One leadership team and its five leaders (kinds, parent, posts), the representatives
        of both pools with a code each; about two thirds vote online with their code, the rest
        hand in paper ballots."""
        rng = random.Random(f"liangping-{seed}")  # its own stream: the 千人评议 one is unchanged
        office, _ = Office.objects.get_or_create(name=OFFICE, defaults={"level": "city"})
        campaign = campaign_create_from_preset(
            preset="liangping", slug=LIANGPING_SLUG, name="2026年市交通运输局“两评一树”",
            year=2026, office=office,
        )
        categories = {c.name: c for c in campaign.categories.all()}
        team, _ = Unit.objects.get_or_create(
            name=TEAM_001, parent=None, defaults={"kind": SubjectKind.TEAM})
        CampaignUnit.objects.create(campaign=campaign, unit=team, name=team.name, order=0,
                                    category=categories[SubjectKind.TEAM.value])
        for order, (name, post) in enumerate(LEADERS_001):
            leader, _ = Unit.objects.get_or_create(
                name=name, parent=team, defaults={"kind": SubjectKind.LEADER})
            CampaignUnit.objects.create(campaign=campaign, unit=leader, name=name, post=post,
                                        order=order, category=categories[SubjectKind.LEADER.value])
        groups = {g.name: g for g in campaign.groups.all()}
        people = iter(rng.sample([s + g for s in SURNAMES for g in GIVEN], sum(RATERS_001.values())))
        Representative.objects.bulk_create(
            Representative(campaign=campaign, group=groups[group], name=next(people))
            for group, n in RATERS_001.items() for _i in range(n)
        )
        campaign = campaign_set_status(campaign=campaign, status=Campaign.Status.OPEN)
        codes = codes_for_representatives(campaign=campaign, user=None)
        quality = {u.pk: rng.uniform(0.88, 1.0) for u in campaign.units.all()}
        units = list(campaign.units.order_by("category__order", "order"))
        dimensions = list(campaign.dimensions.all())
        options = {o.label: o for o in campaign.options.all()}
        storage, layout = Storage.of(campaign), Layout.of(campaign)
        paper: list[Ballot] = []
        online = 0
        for i, code in enumerate(codes):
            group = code.group
            assert group is not None
            # Outside raters know the leaders less well than the staff do: more 不了解.
            unknown = 0.02 if group.pool == "内部评议" else 0.12
            cells = []
            for unit in units:
                for dim in dimensions:
                    r, q = rng.random(), quality[unit.pk]
                    if r < unknown:
                        label = "不了解"
                    elif r < unknown + q * 0.7:
                        label = "满意"
                    elif r < unknown + q * (1 - unknown):
                        label = "基本满意"
                    else:
                        label = "不满意"
                    cells.append((unit.pk, dim.pk, options[label].pk))
            if i % 3:
                ballot_submit(
                    campaign=campaign, code=code.code, layout=layout,
                    answers=[Answer(unit_id=u, dimension_id=d, option_id=o) for u, d, o in cells],
                )
                online += 1
                continue
            # On paper, one cell with two marks now and then.
            spoiled = rng.randrange(len(cells)) if rng.random() < 0.3 else None
            paper.append(Ballot(
                campaign=campaign, source=Ballot.Source.PAPER, serial=f"{200001 + i:06d}",
                group=group, answers=storage.encode(
                    (u, d, o, KIND_SPOILED if k == spoiled else KIND_OPTION)
                    for k, (u, d, o) in enumerate(cells)
                ),
            ))
        Ballot.objects.bulk_create(paper)
        refresh_serial_validity(campaign, [b.serial for b in paper])
        self.stdout.write(
            f"已创建 {campaign.slug}:1 个领导班子、{len(LEADERS_001)} 名领导干部,"
            f"{len(codes)} 名评议代表;线上 {online} 份、纸质 {len(paper)} 份选票"
        )

    # --- 作风效能考评 (document 004) ------------------------------------------------------------

    @transaction.atomic
    def make_zuofeng(self, seed: int) -> None:
        """The 作风效能建设工作考评 of 004 (preset zuofeng) over the 66 units of the 2026
        千人评议 campaign. The preset has one category, 市直及驻市各单位, which the three
        categories of 000 all belong to (the vertical and financial units are the 驻市 ones),
        so all 66 go into it. Its 民主评议 section reads the 2026 campaign; the two rollup
        sections (重点科室, 办事窗口) stay unlinked: the demo has no sub-unit campaign, and in
        deduction mode a unit without evaluated sub-units deducts 0 for them
        (assessments.engine._section_value). Deductions are entered as the source offices
        report them and reviewed by the office, through the services: most approved, two
        pending, one rejected with its reason."""
        rng = random.Random(f"zuofeng-{seed}")  # its own stream: the campaigns are unchanged
        office = Office.objects.get(name=OFFICE)
        staff = get_user_model().objects.get(username="office")
        campaign = Campaign.objects.get(slug=SLUG)
        config = preset_config("zuofeng", 2026)
        config["name"] = "2026年度作风效能建设工作考评"
        config["preset"] = "zuofeng"  # as create_assessment --preset records it
        a = assessment_create(config=config, slug=ZUOFENG_SLUG, office=office, user=staff)
        category = a.categories.get()
        # The units sheet an office would upload (类别 | 单位): the registry units of the campaign.
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["类别", "单位"])
        for name in campaign.units.order_by("category__order", "order").values_list("name",
                                                                                     flat=True):
            ws.append([category.name, name])
        sheet = io.BytesIO()
        wb.save(sheet)
        sheet.seek(0)
        units_import(assessment=a, file=sheet, user=staff)
        survey = a.sections.get(kind=Section.Kind.SURVEY)
        section_link(assessment=a, section=survey.name, campaign=campaign, user=staff)

        units = list(a.units.order_by("order"))
        # Most units lose little or nothing; a few collect most of the deductions.
        unit_weights = [rng.choice((0, 0, 1, 1, 1, 4)) for _u in units]
        sections = list(a.sections.filter(kind=Section.Kind.ITEMS).order_by("order"))
        # Late tasks, complaints and discipline are reported far more often than the rest.
        section_weights = {"督办落实": 4, "审批事项进驻行政服务中心": 2,
                           "转办件、投诉件和信访件办理": 4, "机关作风纪律执行": 4,
                           "行政不作为、乱作为": 1}
        entries: list[Entry] = []
        for _i in range(40):
            unit = rng.choices(units, weights=unit_weights)[0]
            section = rng.choices(sections, weights=[section_weights.get(s.name, 1)
                                                     for s in sections])[0]
            item = rng.choice(list(section.items.order_by("order")))
            points = None
            count = rng.choice((1, 1, 1, 2, 3))
            if item.points is None:  # a range: the source office states the points, once
                assert item.min_points is not None and item.max_points is not None
                lo, hi = int(item.min_points), int(item.max_points)
                points, count = Decimal(rng.randint(max(lo, 5), hi)), 1
            # One of the offices the document names for the section.
            sources = [x for x in re.split("[、及]", section.source) if x] or [OFFICE]
            entries.append(entry_submit(
                unit=unit, section=section, item=item, count=count, points=points,
                source=rng.choice(sources),
                basis=BASIS_004.get(section.name, "通报〔2026〕{n}号").format(
                    n=rng.randint(1, 60)),
                date=dt.date(2026, rng.randint(1, 11), rng.randint(1, 28)), user=staff,
            ))
        # The last three: two still pending, one rejected with its reason.
        for entry in entries[:-3]:
            entry_review(entry=entry, approve=True, reason="", user=staff)
        entry_review(entry=entries[-1], approve=False, reason=REJECT_REASON_004, user=staff)
        self.stdout.write(
            f"已创建 {a.slug}:{len(units)} 个单位,{len(entries)} 条扣分(其中 2 条待审核,"
            f"1 条未通过);民主评议关联 {campaign.slug}"
        )


    def make_cases(self) -> None:
        """Last year's 千人评议 (qianren-2025, closed) opened its cases, now in several states:
        one awaiting its plan (the demo's 单位联络员 belongs to that unit), one whose plan
        waits for review, one in progress, one awaiting acceptance, one accepted."""
        import datetime as dt

        from assessments.models import UnitAccount
        from rectification.services import (
            case_accept,
            case_open,
            plan_review,
            plan_submit,
            proposals_for_campaign,
            report_submit,
        )

        last_year = Campaign.objects.filter(slug="qianren-2025").first()
        staff = get_user_model().objects.filter(username="office").first()
        if last_year is None or staff is None:
            return
        proposals = proposals_for_campaign(last_year)[:5]
        units = {u.pk: u for u in Unit.objects.filter(pk__in=[p.unit_id for p in proposals])}
        # Opened two months ago, half a year to go: only the third case is past its deadline.
        start = timezone.localdate() - dt.timedelta(days=60)
        for step, p in enumerate(proposals):
            case = case_open(campaign=last_year, unit=units[p.unit_id], unit_name=p.unit_name,
                             flag=p.flag, problem=p.problem,
                             deadline=start + dt.timedelta(days=30 if step == 2 else 182),
                             user=staff)
            if step == 0:
                contact = get_user_model().objects.filter(username="lianluoyuan").first()
                if contact is not None:
                    UnitAccount.objects.update_or_create(user=contact,
                                                         defaults={"unit": units[p.unit_id]})
                continue
            plan = plan_submit(case=case, problems=_DEMO_PROBLEMS, user=staff, measures=[
                (text, owner, start + dt.timedelta(days=days))
                for text, owner, days in _DEMO_MEASURES])
            if step == 1:
                continue
            plan_review(plan=plan, approve=True, reason="", user=staff)
            report_submit(case=case, kind="progress", text="已完成窗口流程梳理,办理时限压缩三成。",
                          user=staff)
            if step == 2:
                continue  # in progress, and (its deadline passed) overdue
            report_submit(case=case, kind="completion", text="各项措施已落实,群众反映的问题已解决。",
                          user=staff)
            if step == 4:
                case_accept(case=case, accept=True, note="经实地查看和回访,整改到位,同意验收。",
                            user=staff)
        self.stdout.write(f"已为 qianren-2025 建立 {len(proposals)} 个整改事项")
