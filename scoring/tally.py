"""The one adapter between the database and the scoring engine.

Votes are counted in SQL (one GROUP BY over the elements of the valid ballots' answer arrays),
turned into the engine's frozen dataclasses, and tallied by `scoring.engine.tally`. Views, reports and commands all come
here: nothing else counts votes, and nothing here loops over individual votes.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import Count

from ballots.answers import CODES, Storage
from ballots.models import Ballot
from ballots.validity import REASON_ORDER
from campaigns.models import Campaign
from scoring import engine, output
from scoring.suppression import ATTRIBUTES, UNLABELLED, Suppression

# Spec section 2: the reasons a ballot contributes nothing, in the order reports list them.


@dataclass(frozen=True)
class Filters:
    """Restrict the tally to one slice of the ballots (a tab on the results page)."""

    dimension: str | None = None  # dimension name
    channel: str | None = None
    group: str | None = None  # representative group name
    pool: str | None = None  # review pool (两评一树: 内部评议 / 社会评议)
    district: str | None = None
    source: str | None = None  # "online" | "paper"

    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.dimension, self.channel, self.group, self.pool, self.district,
                      self.source)
        )

    def slices_ballots(self) -> bool:
        """Whether it keeps only some ballots (a dimension keeps all of them: it is a question)."""
        return any(getattr(self, attr) is not None for attr in ATTRIBUTES)


class SliceTooSmall(ValueError):
    """A filter asked for a slice of fewer ballots than the campaign's minimum (or for two
    slices crossed): its figures would show a few representatives' votes. The message says so
    in words a user can read."""


@dataclass(frozen=True)
class BallotSummary:
    total: int
    valid: int
    invalid: int
    invalid_reasons: dict[str, int]
    by_source: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "valid": self.valid,
            "invalid": self.invalid,
            "invalid_reasons": dict(self.invalid_reasons),
        }


@dataclass(frozen=True)
class CampaignTally:
    campaign: Campaign
    input: engine.TallyInput
    result: engine.TallyResult
    ballots: BallotSummary
    filters: Filters
    # The merge maps the breakdowns were built with (scoring.suppression); the pages and the
    # workbook read it for their notes. None only for a CampaignTally built by hand.
    suppression: Suppression | None = None

    # Read once per tally, however many tables, sheets and lists a page or report builds.
    @functools.cached_property
    def dimension_names(self) -> tuple[str, ...]:
        """The campaign's dimensions in their configured order."""
        return tuple(
            self.campaign.dimensions.order_by("order", "id").values_list("name", flat=True))

    @functools.cached_property
    def posts(self) -> dict[str, str]:
        """Unit key → a leader's post (职务), for those that have one."""
        return {str(pk): post for pk, post in
                self.campaign.units.exclude(post="").values_list("id", "post")}

    def unit(self, unit_id: int) -> engine.UnitResult | None:
        key = str(unit_id)
        for c in self.result.categories:
            for u in c.units:
                if u.unit.key == key:
                    return u
        return None

    def flagged(self, flag: str) -> list[engine.UnitResult]:
        return [u for c in self.result.categories for u in c.units if flag in u.flags]


def ballot_summary(campaign: Campaign) -> BallotSummary:
    """Ballots total, valid and invalid by reason: one GROUP BY."""
    rows = (
        Ballot.objects.filter(campaign=campaign)
        .values_list("source", "status", "invalid_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    total = valid = 0
    reasons: dict[str, int] = {}
    by_source: dict[str, int] = {}
    for source, status, reason, n in rows:
        total += n
        by_source[source] = by_source.get(source, 0) + n
        if status == Ballot.Status.VALID:
            valid += n
        else:
            reasons[reason] = reasons.get(reason, 0) + n
    ordered: dict[str, int] = {r: reasons[r] for r in REASON_ORDER if r in reasons}
    ordered |= {r: n for r, n in sorted(reasons.items()) if r not in ordered}
    return BallotSummary(total, valid, total - valid, ordered, by_source)


BALLOT_SLICES = ("group", "channel", "district")


def slice_ballots(campaign: Campaign) -> dict[str, dict[str, int]]:
    """Valid ballots per value of each attribute a ballot is sliced by (group by its name,
    channel, district, source; "" for none): one GROUP BY, the input of the suppression.
    Ballots, not votes: the figures of a slice are built from its ballots, each of which
    answers every unit (see `_counts`), so one count per slice serves every unit."""
    groups = dict(campaign.groups.values_list("id", "name"))
    pools = dict(campaign.groups.values_list("id", "pool"))
    rows = (
        Ballot.objects.filter(campaign=campaign, status=Ballot.Status.VALID)
        .values_list("group_id", "channel", "district", "source")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[str, dict[str, int]] = {attr: {} for attr in ATTRIBUTES}
    for group_id, channel, district, source, n in rows:
        values = {
            "group": groups.get(group_id, UNLABELLED) if group_id is not None else UNLABELLED,
            "pool": pools.get(group_id) or UNLABELLED if group_id is not None else UNLABELLED,
            "channel": channel or UNLABELLED,
            "district": district or UNLABELLED,
            "source": source or UNLABELLED,
        }
        for attr, value in values.items():
            out[attr][value] = out[attr].get(value, 0) + n
    return out


def suppression_of(campaign: Campaign) -> Suppression:
    """The campaign's merge maps (scoring.suppression) at its own minimum."""
    return Suppression.of(slice_ballots(campaign), campaign.min_cell_ballots,
                          pools_of(campaign))


def pools_of(campaign: Campaign) -> dict[str, str]:
    """Group name → its review pool, for the groups that have one (scoring.suppression's
    nest_groups keeps a pool minus its groups from showing a small group)."""
    return dict(campaign.groups.exclude(pool="").values_list("name", "pool"))


class TallyIntegrityError(RuntimeError):
    """The stored answers do not add up (a ballot missing a cell, or answering one twice).

    The database's CHECK constraint makes this impossible on PostgreSQL; the tally checks it
    anyway, because a wrong count is worse than no count."""


def _counts(
    campaign: Campaign,
    filters: Filters,
    slices: tuple[str, ...],
    *,
    minimum: int | None = None,
    merged: tuple[str, ...] = (),
) -> tuple[tuple[engine.VoteCount, ...], Suppression | None]:
    """Answers of valid ballots per unit × option × kind × dimension (× the ballot attributes
    in `slices`), counted by the database in one GROUP BY over the elements of the ballots'
    answer arrays (ballots/answers.py).

    With a `minimum`, also the suppression of these very counts: the ballots of each slice
    are the answers of one cell (each valid ballot answers each cell once, checked below), so
    the merge maps come from the same rows as the votes, with no second query for a ballot
    cast in between to slip past. The attributes in `merged` then carry their published
    label: a small slice's votes arrive as 其他 and are never seen alone."""
    labels = dict(campaign.options.values_list("id", "label"))
    # Keyed by int | None: an answer without a dimension looks up None and finds no name.
    dims: dict[int | None, str] = dict(campaign.dimensions.values_list("id", "name"))
    groups = dict(campaign.groups.values_list("id", "name"))
    # 两评一树's review pools: a ballot's pool is its group's (a derived slice, merged like one),
    # read only where the ballots are sliced by group or filtered by pool.
    pools = (dict(campaign.groups.exclude(pool="").values_list("id", "pool"))
             if "group" in slices or filters.pool is not None else {})
    storage = Storage.of(campaign)

    where = ["b.campaign_id = %s", "b.status = %s"]
    params: list[Any] = [campaign.id, Ballot.Status.VALID]
    for column, value in (
        ("channel", filters.channel),
        ("district", filters.district),
        ("source", filters.source),
    ):
        if value is not None:
            where.append(f"b.{column} = %s")
            params.append(value)
    if filters.group is not None:
        ids = [gid for gid, name in groups.items() if name == filters.group] or [0]
        where.append(f"b.group_id IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    if filters.pool is not None:
        ids = [gid for gid, pool in pools.items() if pool == filters.pool] or [0]
        where.append(f"b.group_id IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    columns = [{"group": "b.group_id"}.get(s, f"b.{s}") for s in slices]
    keys = ", ".join(["v", *[f"s{i}" for i in range(len(columns))]])
    picked = "".join(f", {c} AS s{i}" for i, c in enumerate(columns))
    if connection.vendor == "postgresql":
        # unnest in the select list (a ProjectSet) rather than a LATERAL join: a fifth faster
        # at a million ballots, as it does not start a function scan per ballot.
        inner = f"SELECT unnest(b.answers) AS v{picked} FROM {Ballot._meta.db_table} b"
    else:
        inner = (
            f"SELECT a.value AS v{picked} FROM {Ballot._meta.db_table} b, json_each(b.answers) a"
        )
    sql = f"SELECT {keys}, COUNT(*) FROM ({inner} WHERE {' AND '.join(where)}) e GROUP BY {keys}"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()

    # Every valid ballot answers every cell once, so each cell's answers add up to the same
    # number (that of the ballots counted).
    per_slot: Counter[int] = Counter()
    for element, *rest in rows:
        per_slot[int(element) // CODES] += rest[-1]
    if per_slot and (
        len(per_slot) != len(storage.cells)
        or len(set(per_slot.values())) != 1
        or max(per_slot) >= len(storage.cells)
    ):
        raise TallyIntegrityError(
            f"评价数据不一致:各单位的评价数不相等({min(per_slot.values())}–"
            f"{max(per_slot.values())}),请联系系统管理员"
        )

    def slice_labels(rest: list[Any]) -> dict[str, str | None]:
        attrs = dict(zip(slices, rest[:-1], strict=True))
        group_id = attrs.get("group")
        return {
            "group": groups.get(group_id) if group_id is not None else None,
            "pool": pools.get(group_id) if group_id is not None else None,
            "channel": attrs.get("channel") or None,
            "district": attrs.get("district") or None,
        }

    suppression = None
    if minimum is not None:
        ballots: dict[str, dict[str, int]] = {
            attr: {} for attr in (*slices, *(("pool",) if "group" in slices else ()))}
        for element, *rest in rows:
            if int(element) // CODES == 0:  # the first cell: one answer per ballot
                for attr, value in slice_labels(rest).items():
                    if attr in ballots:
                        key = value or UNLABELLED
                        ballots[attr][key] = ballots[attr].get(key, 0) + rest[-1]
        suppression = Suppression.of(ballots, minimum, pools_of(campaign))

    out = []
    for element, *rest in rows:
        answer = storage.decode(element)
        if filters.dimension is not None and dims.get(answer.dimension_id) != filters.dimension:
            continue
        published = slice_labels(rest)
        if suppression is not None:
            for attr in merged:
                published[attr] = suppression.label(attr, published[attr])
        out.append(
            engine.VoteCount(
                unit_key=str(answer.unit_id),
                option=labels[answer.option_id] if answer.option_id is not None else None,
                kind=answer.kind,
                count=rest[-1],
                dimension=dims.get(answer.dimension_id)
                if answer.dimension_id is not None
                else None,
                group=published["group"],
                pool=published["pool"],
                channel=published["channel"],
                district=published["district"],
            )
        )
    return tuple(out), suppression


def build_input(
    campaign: Campaign,
    filters: Filters | None = None,
    *,
    previous_last_place: frozenset[str] | None = None,
    breakdowns: bool = False,
) -> engine.TallyInput:
    """The engine's input. `breakdowns` adds the per-group, per-channel and per-district
    figures (unit pages, reports), their small slices merged (`tally_campaign`); the ranking
    does not need them, except the groups when they carry weights."""
    return _build_input(
        campaign, filters, previous_last_place=previous_last_place, breakdowns=breakdowns
    )[0]


def _build_input(
    campaign: Campaign,
    filters: Filters | None = None,
    *,
    previous_last_place: frozenset[str] | None = None,
    breakdowns: bool = False,
) -> tuple[engine.TallyInput, Suppression | None]:
    """`build_input`, and with `breakdowns` the suppression its slices were merged by. The
    groups keep each ballot's own name when they carry weights: the score needs it then
    (`tally_campaign` builds the merged per-group figures apart)."""
    filters = filters or Filters()
    options = tuple(
        engine.Option(o.label, Fraction(o.weight), o.satisfied, o.counted)
        for o in campaign.options.order_by("order", "id")
    )
    categories = tuple(
        engine.Category(str(c.id), c.name, c.winners, c.last_place)
        for c in campaign.categories.order_by("order", "id")
    )
    units = tuple(
        engine.Unit(str(pk), str(unit_id or ""), name, str(cat_id), vetoed, kind=kind,
                    parent=parent)
        for pk, unit_id, name, cat_id, vetoed, kind, parent in campaign.units.order_by(
            "category__order", "category_id", "order", "id"
        ).values_list("id", "unit_id", "name", "category_id", "vetoed", "unit__kind",
                      "unit__parent__name")
    )
    bands = tuple(
        engine.GradeBand(Fraction(b.minimum), b.label) for b in campaign.grade_bands.all()
    )
    weights: tuple[tuple[str, Fraction], ...] = ()
    if campaign.aggregation == "mean":
        weights = tuple(
            (g.name, Fraction(g.weight))
            for g in campaign.groups.order_by("order", "id")
            if g.weight is not None
        )
    if previous_last_place is None:
        previous_last_place = _previous_last_place(campaign)
    slices = BALLOT_SLICES if breakdowns else ("group",) if weights else ()
    counts, suppression = _counts(
        campaign,
        filters,
        slices,
        minimum=campaign.min_cell_ballots if breakdowns else None,
        merged=(*(s for s in BALLOT_SLICES if s != "group" or not weights), "pool"),
    )
    inp = engine.TallyInput(
        aggregation=campaign.aggregation,
        threshold=Fraction(campaign.threshold),
        options=options,
        categories=categories,
        units=units,
        counts=counts,
        previous_last_place=previous_last_place,
        grade_bands=bands,
        group_weights=weights,
        honoured_quota=campaign.honoured_quota,
        dimension_line=campaign.dimension_line,
    )
    return inp, suppression


def _previous_last_place(campaign: Campaign) -> frozenset[str]:
    """Registry ids of the last-place units of the previous campaign of the series."""
    previous = campaign.previous
    if previous is None:
        return frozenset()
    # Its own predecessor does not change who was last there, so do not recurse further.
    result = engine.tally(build_input(previous, previous_last_place=frozenset()))
    return frozenset(
        u.unit.registry_id
        for c in result.categories
        for u in c.units
        if engine.FLAG_LAST_PLACE in u.flags and u.unit.registry_id
    )


def tally_campaign(
    campaign: Campaign,
    filters: Filters | None = None,
    *,
    breakdowns: bool = False,
    suppression: Suppression | None = None,
) -> CampaignTally:
    """The tally of a campaign (optionally of one slice of its ballots).

    Small-cell suppression (scoring.suppression) is applied here, for every caller and every
    role alike: the breakdowns merge the slices of fewer than `campaign.min_cell_ballots`
    valid ballots into 其他 (maps made from the counted rows themselves), and a filter on
    such a slice, or on two slices crossed, raises `SliceTooSmall`. `suppression`: the
    campaign's maps (`suppression_of`) when the caller already has them, for that check."""
    filters = filters or Filters()
    if breakdowns and filters.slices_ballots():
        # District X ∩ group Y is not protected by the per-attribute maps; nobody needs it.
        raise ValueError("breakdowns of a slice of the ballots are not published")
    if filters.slices_ballots():
        suppression = suppression or suppression_of(campaign)
        refusal = suppression.refusal({attr: getattr(filters, attr) for attr in ATTRIBUTES})
        if refusal is not None:
            raise SliceTooSmall(refusal)
    inp, merged_by = _build_input(campaign, filters, breakdowns=breakdowns)
    result = engine.tally(inp)
    if merged_by is not None and inp.group_weights:
        result = _merged_groups(inp, result, merged_by)
    return CampaignTally(
        campaign, inp, result, ballot_summary(campaign), filters, merged_by or suppression
    )


def _merged_groups(
    inp: engine.TallyInput, result: engine.TallyResult, suppression: Suppression
) -> engine.TallyResult:
    """With group weights the input keeps each ballot's own group (the score weighs them), so
    the per-group breakdown is tallied again from the same counts under the published group
    labels. Within a group the plain formula applies anyway, so dropping the weights for this
    second tally changes nothing but the labels; the first tally's figures are kept."""
    if not suppression.merges_any("group"):
        return result
    regrouped = replace(
        inp,
        counts=tuple(replace(r, group=suppression.label("group", r.group)) for r in inp.counts),
        group_weights=(),
    )
    by_group = {u.unit.key: u.by_group for c in engine.tally(regrouped).categories for u in c.units}
    return engine.TallyResult(
        tuple(
            replace(c, units=tuple(replace(u, by_group=by_group[u.unit.key]) for u in c.units))
            for c in result.categories
        )
    )


def tally_json(campaign: Campaign, tallied: CampaignTally | None = None) -> dict[str, Any]:
    """Spec section 9, exactly."""
    t = tallied or tally_campaign(campaign)
    return {
        "campaign": {
            "slug": campaign.slug,
            "name": campaign.name,
            "aggregation": campaign.aggregation,
            "threshold": output.json_number(Fraction(campaign.threshold)),
        },
        "ballots": t.ballots.as_json(),
        "categories": output.as_json_dict(t.result),
    }

