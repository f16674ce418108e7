"""`manage.py demo`: the 千人评议机关 campaign of document 000, with synthetic ballots.

Two years of the series are made (2025 closed, 2026 linked to it) so history and
连续两年末位 have something to show. The generator is seeded; the seed is printed so a run can
be reproduced exactly.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ballots.answers import KIND_OPTION, KIND_SPOILED, Storage
from ballots.models import Ballot, Comment
from campaigns.models import Campaign, CampaignUnit, RepresentativeGroup, Unit
from campaigns.services import campaign_clone_for_next_year, campaign_create_from_preset
from core.roles import AUDITOR, CLERK, LEADER, OFFICE
from demo.data import CHANNELS, COMMENTS, DISTRICTS, UNITS_000

DEMO_USERS = (("office", OFFICE, True), ("leader", LEADER, False), ("clerk", CLERK, False),
              ("clerk2", CLERK, False), ("auditor", AUDITOR, True))


class Command(BaseCommand):
    help = "Create the demo 千人评议机关 campaign (66 units of document 000) with synthetic ballots."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--ballots", type=int, default=600)
        parser.add_argument("--if-missing", action="store_true",
                            help="do nothing (but print the logins) when the demo exists")

    def handle(self, *args: Any, **opts: Any) -> None:
        password = secrets.token_urlsafe(9)
        exists = Campaign.objects.filter(slug="qianren-2026").exists()
        if not (exists and opts["if_missing"]):
            if exists:
                self.stderr.write("演示活动已存在(qianren-2026),不重复创建。")
            else:
                seed = opts["seed"] if opts["seed"] is not None else secrets.randbelow(10**6)
                self.stdout.write(f"随机种子 seed = {seed}(用 --seed {seed} 可复现)")
                self.make(seed, opts["ballots"])
        for username, role, staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = staff
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        self.stdout.write("")
        self.stdout.write("演示账号(密码每次运行 demo 时重新生成):")
        for username, role, _staff in DEMO_USERS:
            self.stdout.write(f"  {role:<6} 用户名 {username:<8} 密码 {password}")

    @transaction.atomic
    def make(self, seed: int, n_ballots: int) -> None:
        rng = random.Random(seed)
        last = campaign_create_from_preset(
            preset="qianren", slug="qianren-2025", name="2025年千人评议机关", year=2025
        )
        for category in last.categories.all():
            for order, name in enumerate(UNITS_000[category.name]):
                unit, _ = Unit.objects.get_or_create(name=name)
                CampaignUnit.objects.create(campaign=last, unit=unit, category=category,
                                            name=name, order=order)
        # Satisfaction in real campaigns mostly lies between 85% and 99%: about a third of the
        # units fall under the 90% line (重点整改), as in the documents.
        quality = {name: rng.uniform(0.885, 1.0) for names in UNITS_000.values() for name in names}
        self.fill(last, rng, n_ballots // 2, quality)
        last.status = Campaign.Status.CLOSED
        last.save(update_fields=["status"])

        current = campaign_clone_for_next_year(
            source=last, slug="qianren-2026", name="2026年千人评议机关", year=2026
        )
        # A unit that was vetoed this year, so the rule shows.
        CampaignUnit.objects.filter(campaign=current, name="物价局").update(vetoed=True)
        # Units drift a little from one year to the next.
        quality = {k: min(1.0, max(0.8, v + rng.uniform(-0.03, 0.03))) for k, v in quality.items()}
        self.fill(current, rng, n_ballots, quality)
        # Open, so representatives can still try the online ballot with a demo code.
        current.status = Campaign.Status.OPEN
        current.save(update_fields=["status"])
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
        ballots: list[Ballot] = []
        storage = Storage.of(campaign)
        comments: list[Comment] = []
        for i in range(n):
            paper = i % 3 != 0
            ballot = Ballot(
                campaign=campaign,
                source=Ballot.Source.PAPER if paper else Ballot.Source.ONLINE,
                serial=f"{100001 + i:06d}" if paper else "",
                channel=rng.choice(CHANNELS),
                district=rng.choice(DISTRICTS),
                group=groups[0] if rng.random() < 0.6 else groups[-1],
            )
            blank_ballot = paper and i % 97 == 5
            answers = []
            for unit in units:
                q = quality[unit.name]
                r = rng.random()
                kind, option = KIND_OPTION, None
                if blank_ballot or r < 0.02:
                    option = options["弃权"]  # blank cell: blank_means = 弃权
                elif paper and r < 0.027:
                    kind = KIND_SPOILED
                elif r < 0.02 + q * 0.72:
                    option = options["满意"]
                elif r < 0.02 + q * 0.98:
                    option = options["基本满意"]
                else:
                    option = options["不满意"]
                answers.append((unit.id, None, option.id if option else None, kind))
            ballot.answers = storage.encode(answers)
            if blank_ballot:
                ballot.is_blank = True
                ballot.status, ballot.invalid_reason = Ballot.Status.INVALID, "blank_ballot"
            if rng.random() < 0.08:
                comments.append(Comment(ballot=ballot, campaign=campaign,
                                        unit=rng.choice(units), text=rng.choice(COMMENTS)))
            ballots.append(ballot)
        # A photocopy: ballots 1 and 2 (both paper) carry one serial, so both are invalid.
        if n > 2:
            ballots[1].serial = ballots[2].serial
        Ballot.objects.bulk_create(ballots, batch_size=500)
        Comment.objects.bulk_create(comments, batch_size=500)
        from ballots.validity import refresh_serial_validity

        refresh_serial_validity(campaign, [b.serial for b in ballots if b.serial])
