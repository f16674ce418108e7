"""Forms of the online ballot: the code entry and the ballot itself. Both return domain
values (a normalised code; `Answer`s and a comments mapping), never raw POST strings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.codes import normalise
from ballots.services import Answer
from campaigns.models import Campaign, CampaignUnit, Dimension, RatingOption, RepresentativeGroup

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


@dataclass
class Cell:
    """One radio group on the ballot: a unit, or a unit under one dimension."""

    name: str
    unit: CampaignUnit
    dimension: Dimension | None


@dataclass
class UnitBlock:
    unit: CampaignUnit
    cells: list[Cell] = field(default_factory=list)
    comment: str = ""


def field_name(unit_id: int, dimension_id: int | None) -> str:
    return f"u{unit_id}" if dimension_id is None else f"u{unit_id}_d{dimension_id}"


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
        units: list[CampaignUnit],
        dimensions: list[Dimension],
        options: list[RatingOption],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.options = options
        self.blocks: list[UnitBlock] = []
        choices = [(str(o.pk), o.label) for o in options]
        for unit in units:
            block = UnitBlock(unit=unit, comment=f"c{unit.pk}")
            for dim in dimensions or [None]:
                name = field_name(unit.pk, dim.pk if dim else None)
                label = unit.name if dim is None else f"{unit.name} · {dim.name}"
                self.fields[name] = forms.TypedChoiceField(
                    label=label,
                    choices=choices,
                    coerce=int,
                    required=False,
                    widget=forms.RadioSelect,
                    error_messages={
                        "invalid_choice": _("“%(unit)s”的选项无效,请重新选择") % {"unit": label}
                    },
                )
                block.cells.append(Cell(name=name, unit=unit, dimension=dim))
            self.fields[block.comment] = forms.CharField(
                label=_("对“%(unit)s”的意见和建议(选填)") % {"unit": unit.name},
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
        data = super().clean()
        if self.errors:
            return data
        answered = [
            any(data.get(c.name) not in (None, "") for c in b.cells) for b in self.blocks
        ]
        if self.blocks and not any(answered):
            raise forms.ValidationError(_("您还没有评价任何单位。"), code="empty")
        self.unanswered_units = sum(
            1 for b in self.blocks if any(data.get(c.name) in (None, "") for c in b.cells)
        )
        if self.unanswered_units and not data.get("blanks_ok"):
            self.needs_confirmation = True
            raise forms.ValidationError(self.blank_message(), code="confirm_blanks")
        return data

    def blank_message(self) -> str:
        n = self.unanswered_units
        if self.blank_label:
            return _(
                "还有 %(n)d 个单位没有评价,提交后将按“%(label)s”计。确认请勾选下方的确认框后再提交。"
            ) % {"n": n, "label": self.blank_label}
        return _(
            "还有 %(n)d 个单位没有评价,这些单位将不计票。确认请勾选下方的确认框后再提交。"
        ) % {"n": n}

    def answers(self) -> list[Answer]:
        out: list[Answer] = []
        for block in self.blocks:
            for cell in block.cells:
                value = self.cleaned_data.get(cell.name)
                if value not in (None, ""):
                    out.append(
                        Answer(
                            cell.unit.pk, cell.dimension.pk if cell.dimension else None, value
                        )
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
    KIND_CHOICES = (("named", gettext_lazy("为每位评议代表生成")), ("unnamed", gettext_lazy("不记名")))
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
        self.fields["group"].queryset = campaign.groups.all()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == "unnamed" and not data.get("count"):
            self.add_error("count", _("请填写要生成的数量(1–5000)"))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500)
