"""Forms of the online ballot: the code entry and the ballot itself. Both return domain
values (a normalised code; `Answer`s and a comments mapping), never raw POST strings."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots import sql
from ballots.online.codes import normalise
from ballots.services import Answer
from campaigns.models import (
    Campaign,
    RepresentativeGroup,
    SubjectKind,
)
from campaigns.subjects import SubjectWords, subject_label, subject_words

COMMENT_MAX = 2000


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("评议码"),
        max_length=64,
        help_text=gettext_lazy("16位字母和数字,见您收到的评议码条;大小写和“-”均可不输"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "inputmode": "text",
                "placeholder": "XXXX-XXXX-XXXX-XXXX",
            }
        ),
    )

    def clean_code(self) -> str:
        code = normalise(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("评议码格式不正确:应为16位字母和数字(不含 0、1、I、L、O、U)"),
                code="malformed",
            )
        return code


@dataclass(frozen=True)
class Named:
    """A category or a dimension, as the ballot shows it."""

    pk: int
    name: str


@dataclass(frozen=True)
class BallotUnit:
    pk: int
    name: str
    category: Named
    # 评议对象的类型 (campaigns.models.SubjectKind) and a leader's post (职务).
    kind: str = SubjectKind.UNIT.value
    post: str = ""

    @property
    def category_id(self) -> int:
        return self.category.pk

    @property
    def label(self) -> str:
        """The name as the ballot shows it: a leader with the post, "张三(局长)"."""
        return subject_label(self.name, self.post)


@dataclass(frozen=True)
class BallotOption:
    pk: int
    label: str


@dataclass(frozen=True)
class BallotItems:
    """What a ballot lists, read as plain values: the form is built on every submission, and
    model instances for 66-150 units cost more than the rest of the request."""

    units: list[BallotUnit]
    dimensions: list[Named]
    options: list[BallotOption]

    @functools.cached_property
    def words(self) -> SubjectWords:
        """What the page calls the units: 单位 for units only, else by their kinds."""
        return subject_words(u.kind for u in self.units)

    @classmethod
    def of(cls, campaign: Campaign) -> BallotItems:
        rows, named = sql.ballot_items_rows(campaign.pk)
        return cls.from_rows(
            rows,
            [(pk, name) for kind, pk, name, _o in named if kind == 0],
            [(pk, label) for kind, pk, label, _o in named if kind == 1],
        )

    @classmethod
    def from_rows(
        cls,
        units: Iterable[Sequence[Any]],
        dimensions: Iterable[Sequence[Any]],
        options: Iterable[Sequence[Any]],
    ) -> BallotItems:
        """From (id, name, category id, category name, kind, post) per unit and (id, name) per
        dimension and option, each in ballot order."""
        categories: dict[int, Named] = {}
        listed = []
        for pk, name, cat_id, cat_name, kind, post in units:
            category = categories.setdefault(cat_id, Named(cat_id, cat_name))
            listed.append(BallotUnit(pk, name, category, kind, post or ""))
        return cls(
            units=listed,
            dimensions=[Named(pk, name) for pk, name in dimensions],
            options=[BallotOption(pk, label) for pk, label in options],
        )


@dataclass
class Cell:
    """One radio group on the ballot: a unit, or a unit under one dimension."""

    name: str
    unit: BallotUnit
    dimension: Named | None


@dataclass
class UnitBlock:
    unit: BallotUnit
    cells: list[Cell] = field(default_factory=list)
    comment: str = ""


def field_name(unit_id: int, dimension_id: int | None) -> str:
    return f"u{unit_id}" if dimension_id is None else f"u{unit_id}_d{dimension_id}"


class SharedChoicesRadioSelect(forms.RadioSelect):
    """A RadioSelect whose `choices` is a plain attribute: all radio groups of a ballot share
    one list, instead of Django normalising a copy for each group."""

    choices: Any = ()  # shadows ChoiceWidget's normalising property


class OptionField(forms.Field):
    """One radio group: the chosen option's id, or None when nothing is chosen.

    A ballot has 66 to 150 of these and is built on every submission, in the hall with
    hundreds of voters at once: unlike ChoiceField, this one shares one list of choices among
    all groups (ChoiceField normalises its choices again for each field) and checks the
    answer against a set."""

    widget = SharedChoicesRadioSelect

    def __init__(
        self, *, choices: list[tuple[str, str]], option_ids: frozenset[int], **kwargs: Any
    ) -> None:
        super().__init__(required=False, **kwargs)
        self.option_ids = option_ids
        self.widget.choices = choices

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            option = int(value)
        except (TypeError, ValueError):
            option = None
        if option not in self.option_ids:
            # The label is translated only when an error is shown.
            raise forms.ValidationError(
                _("“%(unit)s”的选项无效,请重新选择") % {"unit": self.label}, code="invalid_choice"
            )
        return option


def blanks_problem(filled: Sequence[Sequence[bool]], blanks_ok: bool) -> tuple[str | None, int]:
    """What a ballot's blanks say before it may be cast, from which cells of each unit were
    filled: "empty" (units, none answered), "confirm_blanks" (units left blank without the
    voter's confirmation) or None; and the number of units with a blank cell. The one rule
    for BallotForm.clean and quick_ballot."""
    unanswered = sum(1 for cells in filled if not all(cells))
    if filled and not any(any(cells) for cells in filled):
        return "empty", unanswered
    if unanswered and not blanks_ok:
        return "confirm_blanks", unanswered
    return None, unanswered


class BallotForm(forms.Form):
    """The ballot of one campaign: a radio group per unit (and dimension), an optional comment
    per unit and a general one. `blanks_ok` is the voter's confirmation that unanswered units
    are recorded as blanks (or as 弃权 where the campaign says so)."""

    general = forms.CharField(
        label=gettext_lazy("总体意见和建议(选填)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": COMMENT_MAX}),
    )
    blanks_ok = forms.BooleanField(required=False)
    code = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        campaign: Campaign,
        items: BallotItems,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.items = items
        units, dimensions, options = items.units, items.dimensions, items.options
        self.options = options
        self.blocks: list[UnitBlock] = []
        choices = [(str(o.pk), o.label) for o in options]
        option_ids = frozenset(o.pk for o in options)
        comment_label = _("对“%(unit)s”的意见和建议(选填)")
        # Without dimensions a unit has one cell, of no dimension.
        cell_dims: Sequence[Named | None] = dimensions or [None]
        for unit in units:
            block = UnitBlock(unit=unit, comment=f"c{unit.pk}")
            for dim in cell_dims:
                name = field_name(unit.pk, dim.pk if dim else None)
                label = unit.label if dim is None else f"{unit.label} · {dim.name}"
                self.fields[name] = OptionField(label=label, choices=choices, option_ids=option_ids)
                block.cells.append(Cell(name=name, unit=unit, dimension=dim))
            self.fields[block.comment] = forms.CharField(
                label=comment_label % {"unit": unit.label},
                required=False,
                max_length=COMMENT_MAX,
                widget=forms.Textarea(attrs={"rows": 2, "maxlength": COMMENT_MAX}),
            )
            self.blocks.append(block)
        self.unanswered_units = 0
        self.needs_confirmation = False

    @property
    def blank_label(self) -> str | None:
        option = next((o for o in self.options if o.pk == self.campaign.blank_means_id), None)
        return option.label if option else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returned (the stubs say it may be None)
        if self.errors:
            return data
        filled = [[data.get(c.name) not in (None, "") for c in b.cells] for b in self.blocks]
        problem, self.unanswered_units = blanks_problem(filled, bool(data.get("blanks_ok")))
        if problem == "empty":
            message = (_("您还没有评价任何单位。") if self.items.words.plain
                       else _("您还没有评价任何评议对象。"))
            raise forms.ValidationError(message, code="empty")
        if problem == "confirm_blanks":
            self.needs_confirmation = True
            raise forms.ValidationError(self.blank_message(), code="confirm_blanks")
        return data

    def blank_message(self) -> str:
        n = self.unanswered_units
        if not self.items.words.plain:
            if self.blank_label:
                return _(
                    "还有 %(n)d 个评议对象没有评价,提交后将按“%(label)s”计。"
                    "确认请勾选下方的确认框后再提交。"
                ) % {"n": n, "label": self.blank_label}
            return _(
                "还有 %(n)d 个评议对象没有评价,这些评议对象将不计票。"
                "确认请勾选下方的确认框后再提交。"
            ) % {"n": n}
        if self.blank_label:
            return _(
                "还有 %(n)d 个单位没有评价,提交后将按“%(label)s”计。确认请勾选下方的确认框后再提交。"
            ) % {"n": n, "label": self.blank_label}
        return _("还有 %(n)d 个单位没有评价,这些单位将不计票。确认请勾选下方的确认框后再提交。") % {
            "n": n
        }

    def answers(self) -> list[Answer]:
        out: list[Answer] = []
        for block in self.blocks:
            for cell in block.cells:
                value = self.cleaned_data.get(cell.name)
                if value not in (None, ""):
                    out.append(
                        Answer(cell.unit.pk, cell.dimension.pk if cell.dimension else None, value)
                    )
        return out

    def comments(self) -> dict[int | None, str]:
        out: dict[int | None, str] = {}
        for block in self.blocks:
            text = (self.cleaned_data.get(block.comment) or "").strip()
            if text:
                out[block.unit.pk] = text
        general = (self.cleaned_data.get("general") or "").strip()
        if general:
            out[None] = general
        return out


class GenerateForm(forms.Form):
    KIND_CHOICES = (
        ("named", gettext_lazy("为每位评议代表生成")),
        ("unnamed", gettext_lazy("不记名")),
    )
    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.HiddenInput)
    count = forms.IntegerField(
        label=gettext_lazy("数量"), min_value=1, max_value=5000, required=False
    )
    group = forms.ModelChoiceField(
        label=gettext_lazy("代表类别"),
        queryset=RepresentativeGroup.objects.none(),
        required=False,
        empty_label=gettext_lazy("(不限类别)"),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group = self.fields["group"]
        assert isinstance(group, forms.ModelChoiceField)  # declared above
        group.queryset = campaign.groups.all()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returned (the stubs say it may be None)
        if data.get("kind") == "unnamed" and not data.get("count"):
            self.add_error("count", _("请填写要生成的数量(1–5000)"))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500)


@dataclass(frozen=True)
class QuickBallot:
    answers: list[Answer]
    comments: dict[int | None, str]


def _quick_text(data: Any, name: str) -> str | None:
    """A comment as BallotForm's CharField would clean it, or None if it would refuse it."""
    raw = data.get(name)
    text = str(raw).strip() if raw not in (None, "") else ""
    if len(text) > COMMENT_MAX or "\x00" in text:
        return None
    return text


def quick_ballot(data: Any, items: BallotItems) -> QuickBallot | None:
    """The answers and comments of a POSTed ballot that BallotForm would accept as it is, read
    without building the form; None whenever the form has anything to say (an unknown option,
    units left blank without the confirmation, nothing answered, a text too long), and the
    view then builds the whole form to say it.

    Why: the form has 133 fields for 66 units, and building and cleaning it was a fifth of
    the server's time per submission while hundreds of voters submit in one hall. The blanks
    rule is BallotForm's own (`blanks_problem`), and both lead to the one reading of the
    ballot (ballots.reading); tests/test_online_quick.py holds the two to the same results."""
    option_ids = {str(o.pk): o.pk for o in items.options}
    dims: list[Named | None] = list(items.dimensions) or [None]
    answers: list[Answer] = []
    comments: dict[int | None, str] = {}
    filled: list[list[bool]] = []
    for unit in items.units:
        cells: list[bool] = []
        for dim in dims:
            raw = data.get(field_name(unit.pk, dim.pk if dim else None))
            cells.append(raw not in (None, ""))
            if raw in (None, ""):
                continue
            option = option_ids.get(str(raw).strip())
            if option is None:
                return None
            answers.append(Answer(unit.pk, dim.pk if dim else None, option))
        filled.append(cells)
        text = _quick_text(data, f"c{unit.pk}")
        if text is None:
            return None
        if text:
            comments[unit.pk] = text
    blanks_ok = BallotForm.base_fields["blanks_ok"]
    ok = blanks_ok.clean(blanks_ok.widget.value_from_datadict(data, {}, "blanks_ok"))
    if blanks_problem(filled, bool(ok))[0] is not None:
        return None
    general = _quick_text(data, "general")
    code = data.get("code") or ""
    if general is None or len(str(code)) > 64:
        return None
    if general:
        comments[None] = general
    return QuickBallot(answers=answers, comments=comments)
