"""Small-cell suppression: no published figure is built from fewer than a minimum of ballots.

Anonymous ballots carry their representative's district, group and channel (and a source).
Sliced by one of these, a district with one representative would show her vote. So every
breakdown, every filter of the results page, every sheet that slices ballots, and the public
ballot file of a later issue, go through `merge_map`: it takes the number of *ballots* (valid
ballots, not votes: every valid ballot answers every unit, so a slice's ballots are what its
figures are built from) of each slice and says under which label each slice may be published.

The rule, for one attribute (district, group, channel or source) at a time:

1. A slice with fewer ballots than the minimum is merged into one slice, 其他 (OTHER).
2. If 其他 then holds some ballots but still fewer than the minimum, the smallest remaining
   slice is merged into it too, and so on until it reaches the minimum (one step is enough
   unless everything is small). Otherwise 其他 would be published from a few ballots, and so
   would the difference "total minus the slices shown", which is the same leak.
3. The ballots without a value (no district on record: label "") take part like any slice.
   They are not shown as a row of their own, but "total minus the rows shown" would publish
   them by difference, so they must reach the minimum too or go into 其他.
4. A slice that really is called 其他 is always read as part of 其他: a real 其他 shown beside a
   merged one, or filtered alone, would give the small slices away by difference.

Filters are the same leak ("district = X" shows X's totals), so a filtered view is allowed
only on a slice that `stands_alone`, and on one attribute at a time: district X ∩ group Y
can be one person even when X and Y are large, and X minus (X ∩ Y) differences it out.

A breakdown that would be one 其他 row and nothing else (every slice small) says nothing the
unit's own figures do not: it is withheld, with a note (`Suppression.withheld`).

The minimum is a campaign setting (`Campaign.min_cell_ballots`), its default the site's
(settings.PINGYI_MIN_CELL_BALLOTS, else 10): the office that promises anonymity to its
representatives decides how many make a crowd, and the figure travels with the campaign.
No role lifts it: leaders and auditors read the same merged figures as everyone.

Pure functions of plain mappings: nothing here reads the database (scoring.tally does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The published label of the merged slices (translated where it is displayed, see
# scoring.presentation.slice_label); stored as data, so the workbook and the public file agree.
OTHER = "其他"
# The slice of the ballots without a value for the attribute (no district, no group).
UNLABELLED = ""
# The attributes a ballot is sliced by. A dimension is a question, not a slice of ballots:
# every ballot answers every dimension, so those breakdowns are not suppressed.
ATTRIBUTES = ("group", "pool", "channel", "district", "source")
NAMES = {
    "group": gettext_lazy("代表类别"),
    "pool": gettext_lazy("评议范围"),
    "channel": gettext_lazy("渠道"),
    "district": gettext_lazy("片区"),
    "source": gettext_lazy("来源"),
}


def merge_map(ballots: Mapping[str, int], minimum: int) -> dict[str, str]:
    """Slice label → published label (the label itself, or OTHER) for slices with the given
    numbers of ballots. Every label in `ballots` is in the result. A minimum of 1 (or 0)
    merges nothing but a slice really called 其他."""
    merged = {label for label, n in ballots.items() if label == OTHER or n < minimum}
    other = sum(ballots[label] for label in merged)
    remaining = sorted((n, label) for label, n in ballots.items() if label not in merged)
    # Step 2: 其他 must reach the minimum (or be empty); smallest first, ties by label so
    # the same counts always give the same map.
    while 0 < other < minimum and remaining:
        n, label = remaining.pop(0)
        merged.add(label)
        other += n
    return {label: OTHER if label in merged else label for label in ballots}


def nest_groups(
    merge: Mapping[str, str], ballots: Mapping[str, int], pools: Mapping[str, str], minimum: int
) -> dict[str, str]:
    """The group map made safe beside the pools the groups belong to. A pool's figures minus
    those of its groups that stand alone are the figures of its hidden groups: so within each
    pool the hidden groups must hold no ballot or at least `minimum`; otherwise the pool's
    smallest group still alone joins 其他 too (ties by label), until they do."""
    out = dict(merge)
    for pool in sorted(set(pools.values())):
        members = [g for g in out if pools.get(g) == pool]
        while True:
            hidden = sum(ballots.get(g, 0) for g in members if out[g] == OTHER)
            alone = sorted((ballots.get(g, 0), g) for g in members if out[g] != OTHER)
            if not (0 < hidden < minimum and alone):
                break
            out[alone[0][1]] = OTHER
    return out


def stands_alone(merge: Mapping[str, str], label: str) -> bool:
    """Whether `label` is published as a slice of its own (and so may be filtered on)."""
    return label not in (OTHER, UNLABELLED) and merge.get(label) == label


@dataclass(frozen=True)
class Suppression:
    """The merge maps of one campaign's ballots, attribute by attribute."""

    minimum: int
    merges: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        ballots: Mapping[str, Mapping[str, int]],
        minimum: int,
        pools: Mapping[str, str] | None = None,
    ) -> Suppression:
        """From attribute → (slice label → valid ballots); `pools` maps a group to its review
        pool (两评一树), see `nest_groups`."""
        merges = {attr: merge_map(ballots.get(attr, {}), minimum) for attr in ATTRIBUTES}
        if pools:
            merges["group"] = nest_groups(merges["group"], ballots.get("group", {}), pools,
                                          minimum)
        return cls(minimum, merges)

    def label(self, attr: str, value: str | None) -> str | None:
        """The published label of a ballot's value (None for a ballot without one that is
        not merged: it belongs to no row). A value the maps do not know (a ballot counted
        after them) is not known to be safe alone, so it goes to 其他."""
        key = value or UNLABELLED
        published = self.merges.get(attr, {}).get(key, OTHER)
        return published or None

    def alone(self, attr: str) -> list[str]:
        """The labels of `attr` published on their own, sorted: the filter's choices."""
        merge = self.merges.get(attr, {})
        return sorted(label for label in merge if stands_alone(merge, label))

    def merges_any(self, attr: str) -> bool:
        """Whether some slice of `attr` was merged into 其他 (the reader is told so)."""
        return any(
            published == OTHER and label != OTHER
            for label, published in self.merges.get(attr, {}).items()
        )

    def withheld(self, attr: str) -> bool:
        """Whether the breakdown by `attr` would be one 其他 row and nothing else: then it
        shows nothing the totals do not, and is left out with a note."""
        return self.merges_any(attr) and not self.alone(attr)

    def refusal(self, filters: Mapping[str, str | None]) -> str | None:
        """Why a filter (attribute → chosen value, None for all) may not be shown, or None
        when it may. The message gives no count: "fewer than the minimum" is all it says."""
        chosen = [(attr, v) for attr, v in filters.items() if attr in ATTRIBUTES and v is not None]
        if len(chosen) > 1:
            return _(
                "渠道、代表类别、片区、来源一次只能按其中一项筛选:交叉后的范围可能只有几个人,"
                "与单项筛选的结果相减即可推知他们的评价。"
            )
        for attr, value in chosen:
            if not stands_alone(self.merges.get(attr, {}), value):
                return _(
                    "所选%(what)s“%(v)s”的有效票少于 %(n)d 张(或与其他小范围合并统计),"
                    "为保护评议代表的投票秘密,不单独显示。"
                ) % {"what": NAMES[attr], "v": value, "n": self.minimum}
        return None
