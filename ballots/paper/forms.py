"""Forms of the paper-ballot pages. They check shape and return domain values; the rules
(ranges, double entry, disputes) are enforced by ballots.paper.keying."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.models import KeyedEntry
from ballots.paper.cells import BLANK, SPOILED, Row
from campaigns.models import RatingOption

# A long run is fine in the background, but one PDF of more than this is unwieldy to print.
MAX_PRINT = 5000


class KeyForm(forms.Form):
    """One keyed ballot: the serial and one character per cell (see ballots.paper.keying)."""

    serial = forms.CharField(label=gettext_lazy("选票编号"), max_length=40)
    # Not stripped: a trailing space is a blank on the last unit.
    keys = forms.CharField(
        label=gettext_lazy("按键"),
        max_length=4000,
        strip=False,
        help_text=gettext_lazy("每个单位一个按键,依次输入"),
    )
    comments = forms.CharField(label=gettext_lazy("意见和建议"), max_length=2000, required=False)
    allow_out_of_range = forms.BooleanField(
        label=gettext_lazy("主管允许:编号不在已印制的编号段内"), required=False
    )
    confirm_copy = forms.BooleanField(
        label=gettext_lazy("确认:这是同编号的另一张问卷(复印件),两张都将作无效"), required=False
    )


class SerialCheckForm(forms.Form):
    serial = forms.CharField(label=gettext_lazy("选票编号"), max_length=40)


class RangeForm(forms.Form):
    first = forms.IntegerField(label=gettext_lazy("起始编号"), min_value=1)
    last = forms.IntegerField(label=gettext_lazy("结束编号"), min_value=1)
    width = forms.IntegerField(label=gettext_lazy("编号位数"), min_value=1, max_value=12, initial=6)
    channel = forms.CharField(
        label=gettext_lazy("发放渠道"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("例如 社会随机评"),
    )
    district = forms.CharField(
        label=gettext_lazy("发放片区"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("例如 城区片"),
    )
    note = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)
    make_pdf = forms.BooleanField(
        label=gettext_lazy("生成 PDF(不勾选则只登记在别处印制的编号段)"),
        required=False,
        initial=True,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returned (the stubs say it may be None)
        first, last = data.get("first"), data.get("last")
        if first is not None and last is not None:
            if last < first:
                self.add_error("last", _("结束编号不能小于起始编号"))
            elif data.get("make_pdf") and last - first + 1 > MAX_PRINT:
                self.add_error(
                    "last",
                    _("一次最多生成 %(n)d 份,请分段生成(本段 %(m)d 份)")
                    % {"n": MAX_PRINT, "m": last - first + 1},
                )
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500)


class SerialSearchForm(forms.Form):
    serial = forms.CharField(label=gettext_lazy("选票编号"), max_length=40)


def code_choices(options: Sequence[RatingOption]) -> list[tuple[str, str]]:
    return [
        *[(str(i), f"{i} {o.label}") for i, o in enumerate(options, start=1)],
        (str(BLANK), _("0 未填")),
        (str(SPOILED), _("9 多选(废)")),
    ]


def code_label(code: int, options: Sequence[RatingOption]) -> str:
    if code == BLANK:
        return _("未填")
    if code == SPOILED:
        return _("多选(废)")
    return options[code - 1].label if 0 < code <= len(options) else "?"


class ResolveForm(forms.Form):
    """The supervisor's decision: a choice on each row where the passes differ; rows where they
    agree keep the common reading. `cleaned_data["codes"]` is the whole ballot."""

    reason = forms.CharField(label=gettext_lazy("裁决说明"), max_length=500, required=False)

    def __init__(
        self,
        *args: Any,
        rows: Sequence[Row],
        first: KeyedEntry,
        second: KeyedEntry,
        options: Sequence[RatingOption],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows, self.first, self.second = rows, first, second
        choices = [("", _("请选择")), *code_choices(options)]
        self.differing = [
            i for i, (a, b) in enumerate(zip(first.answers, second.answers, strict=False)) if a != b
        ]
        for i in self.differing:
            row = rows[i]
            self.fields[f"cell_{i}"] = forms.TypedChoiceField(
                label=row.unit + (f" · {row.dimension}" if row.dimension else ""),
                choices=choices,
                coerce=int,
                error_messages={"required": _("第 %(i)d 行需要裁决") % {"i": i + 1}},
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returned (the stubs say it may be None)
        if not self.errors:
            codes = list(self.first.answers)
            for i in self.differing:
                codes[i] = data[f"cell_{i}"]
            data["codes"] = codes
        return data
