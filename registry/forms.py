"""The registry's forms. They validate what a person typed; the rules of the cleanup (who may
change what, when, merges within the cleanup) are the services', whose problems the views
put back on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.models import (
    Activity,
    BasisKind,
    Cleanup,
    Decision,
    Frequency,
    Kind,
    Level,
    Round,
    System,
)
from registry.presets import PRESETS
from registry.publication import NOTICE_FIELDS
from registry.services import ActivityData

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
CHECK = {"class": "form-check-input"}
DAY = {"type": "date", "class": "form-control"}


def _activity_label(a: Activity) -> str:
    return f"{a.organiser.name} · {a.name}"


class ActivityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _activity_label(obj)


class CleanupForm(forms.Form):
    preset = forms.ChoiceField(label=_("预设"), choices=[(k, p.title) for k, p in PRESETS.items()],
                               widget=forms.Select(attrs=SELECT))
    name = forms.CharField(label=_("名称"), max_length=200, widget=forms.TextInput(attrs=TEXT))
    slug = forms.SlugField(label=_("标识"), max_length=80, help_text=_("用于网址,例如 pingbi-2026"),
                           widget=forms.TextInput(attrs=TEXT))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100,
                              widget=forms.NumberInput(attrs=TEXT))
    level = forms.ChoiceField(label=_("层级"), choices=Cleanup.Level.choices,
                              initial=Cleanup.Level.CITY, widget=forms.Select(attrs=SELECT))
    office = forms.CharField(label=_("联席会议办公室"), max_length=200,
                             initial="市清理规范评比达标表彰工作联席会议办公室(市纪委纠风室)",
                             widget=forms.TextInput(attrs=TEXT))

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if slug in {"new", "import"} or Cleanup.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("标识已被使用"))
        return slug


class ActivityForm(forms.Form):
    """One activity of the 自查登记表, as a department fills it in on its phone."""

    name = forms.CharField(label=_("项目名称"), max_length=200, widget=forms.TextInput(attrs=TEXT))
    system = forms.ChoiceField(label=_("系统"), choices=System.choices,
                               widget=forms.Select(attrs=SELECT))
    level = forms.ChoiceField(label=_("举办层级"), choices=Level.choices, initial=Level.CITY,
                              widget=forms.Select(attrs=SELECT))
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices,
                             widget=forms.RadioSelect(attrs=CHECK))
    for_system = forms.BooleanField(label=_("本系统"), required=False,
                                    widget=forms.CheckboxInput(attrs=CHECK))
    for_grassroots = forms.BooleanField(label=_("基层"), required=False,
                                        widget=forms.CheckboxInput(attrs=CHECK))
    for_enterprises = forms.BooleanField(label=_("企业"), required=False,
                                         widget=forms.CheckboxInput(attrs=CHECK))
    frequency = forms.ChoiceField(label=_("举办周期"), choices=Frequency.choices,
                                  widget=forms.Select(attrs=SELECT))
    first_year = forms.IntegerField(label=_("首次举办年份"), required=False, min_value=1949,
                                    max_value=2100,
                                    widget=forms.NumberInput(attrs={**TEXT,
                                                                    "inputmode": "numeric"}))
    basis_kind = forms.ChoiceField(label=_("依据类别"), choices=BasisKind.choices,
                                   widget=forms.Select(attrs=SELECT))
    basis_document = forms.CharField(label=_("依据文件及文号"), max_length=300, required=False,
                                     widget=forms.TextInput(attrs=TEXT))
    charges_fees = forms.BooleanField(label=_("以各种名目收费"), required=False,
                                      widget=forms.CheckboxInput(attrs=CHECK))
    asks_contributions = forms.BooleanField(label=_("要求基层、企业、群众出钱出物出工"),
                                            required=False,
                                            widget=forms.CheckboxInput(attrs=CHECK))
    improper_payments = forms.BooleanField(label=_("以开展活动为由发放钱物"), required=False,
                                           widget=forms.CheckboxInput(attrs=CHECK))
    proposal = forms.ChoiceField(label=_("处理意见"), choices=Decision.choices,
                                 widget=forms.RadioSelect(attrs=CHECK))
    proposal_merge_into = ActivityChoice(label=_("拟合并到"), required=False,
                                         queryset=Activity.objects.none(),
                                         widget=forms.Select(attrs=SELECT))
    proposal_reason = forms.CharField(label=_("理由"), required=False,
                                      help_text=_("拟保留的项目须说明具体理由并写明依据"),
                                      widget=forms.Textarea(attrs={**TEXT, "rows": 3}))

    FIELDSETS = (
        (_("项目"), ("name", "system", "level", "kind")),
        (_("面向对象"), ("for_system", "for_grassroots", "for_enterprises")),
        (_("周期与依据"), ("frequency", "first_year", "basis_kind", "basis_document")),
        (_("是否涉及"), ("charges_fees", "asks_contributions", "improper_payments")),
        (_("处理意见"), ("proposal", "proposal_merge_into", "proposal_reason")),
    )

    def __init__(self, *args: Any, cleanup: Cleanup, instance: Activity | None = None,
                 **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        qs = (Activity.objects.filter(cleanup=cleanup, status=Activity.Status.REGISTERED)
              .select_related("organiser").order_by("organiser__name", "name"))
        if instance is not None:
            qs = qs.exclude(pk=instance.pk)
        field = self.fields["proposal_merge_into"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = qs

    def fieldsets(self) -> list[tuple[Any, list[Any]]]:
        return [(title, [self[n] for n in names]) for title, names in self.FIELDSETS]

    def data_object(self) -> ActivityData:
        d: dict[str, Any] = self.cleaned_data
        return ActivityData(**d)


class DecisionForm(forms.Form):
    round = forms.ModelChoiceField(label=_("审核轮次"), queryset=Round.objects.none(),
                                   widget=forms.Select(attrs=SELECT))
    decision = forms.ChoiceField(label=_("审核意见"), choices=Decision.choices,
                                 widget=forms.RadioSelect(attrs=CHECK))
    merged_into = ActivityChoice(label=_("合并到"), required=False,
                                 queryset=Activity.objects.none(),
                                 widget=forms.Select(attrs=SELECT))
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={**TEXT, "rows": 3}))

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rounds = self.fields["round"]
        assert isinstance(rounds, forms.ModelChoiceField)
        rounds.queryset = activity.cleanup.rounds.filter(closed_at__isnull=True)
        into = self.fields["merged_into"]
        assert isinstance(into, forms.ModelChoiceField)
        into.queryset = (Activity.objects.filter(cleanup=activity.cleanup,
                                                 status=Activity.Status.REGISTERED)
                         .exclude(pk=activity.pk).select_related("organiser")
                         .order_by("organiser__name", "name"))


class RoundForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, widget=forms.TextInput(attrs=TEXT),
                           help_text=_("例如 联席会议第四次全体会议"))
    kind = forms.ChoiceField(label=_("类型"), choices=Round.Kind.choices,
                             widget=forms.Select(attrs=SELECT))
    date = forms.DateField(label=_("日期"), required=False,
                           widget=forms.DateInput(attrs=DAY, format="%Y-%m-%d"))


class NoticeForm(forms.ModelForm):
    class Meta:
        model = Cleanup
        fields = NOTICE_FIELDS
        widgets = {"notice_from": forms.DateInput(attrs=DAY, format="%Y-%m-%d"),
                   "notice_to": forms.DateInput(attrs=DAY, format="%Y-%m-%d")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-control")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=2000,
                             widget=forms.TextInput(attrs=TEXT))


class UploadForm(forms.Form):
    file = forms.FileField(label=_("自查登记表 (.xlsx)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx",
                                                                  "class": "form-control"}))
