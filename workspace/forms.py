from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campaigns.access import sees_all_offices
from campaigns.configuration import SETTINGS_FIELDS, DimensionSpec, OptionSpec
from campaigns.forms import PresetCampaignForm as BasePresetForm
from campaigns.models import MAX_CELLS, MAX_RATING_OPTIONS, Campaign, Office
from registry.freeze import campaign_activity_problems, cleanup_in_progress, eligible_activities
from workspace.rules import NOTICE_FIELDS

# Paths under /c/ that are pages, not campaigns: a campaign may not take them as its slug.
RESERVED_SLUGS = {"new"}


def offices_of(user: Any) -> QuerySet[Office]:
    """The offices `user` may give a new campaign (as the admin's preset page does)."""
    return Office.objects.all() if sees_all_offices(user) else Office.objects.filter(members=user)


class PresetCampaignForm(BasePresetForm):
    """Create a campaign from a preset (the admin's form, plus the office when there is a
    choice to make; a single office is simply used)."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offices = offices_of(user)
        self.all_offices = sees_all_offices(user)
        if self.all_offices or self.offices.count() > 1:
            self.fields["office"] = forms.ModelChoiceField(
                queryset=self.offices, label=_("评议办公室"), required=not self.all_offices
            )
            self.fields["office"].widget.attrs["class"] = "form-select"
        # Issue 22: the registered activity the campaign runs under (registry/freeze.py).
        self.cleanup = cleanup_in_progress()
        self.fields["activity"] = forms.ModelChoiceField(
            queryset=eligible_activities(), required=False, label=_("登记项目"),
            help_text=_("本活动所依据的已登记评比达标表彰项目(已审定保留,或有法律、行政法规、"
                        "中央文件、省批准依据)"))
        self.fields["activity"].widget.attrs["class"] = "form-select"
        self.fields["activity"].label_from_instance = _activity_label  # type: ignore[attr-defined]
        self.fields["activity_override_reason"] = forms.CharField(
            required=False, max_length=2000, label=_("例外理由"),
            help_text=_("没有可选的登记项目时,说明为何仍须举办;该理由记入审计日志"),
            widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))

    def clean_slug(self) -> str:
        slug: str = super().clean_slug()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("该标识不能使用"))
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for problem in campaign_activity_problems(data.get("activity"),
                                                  data.get("activity_override_reason", "")):
            self.add_error("activity", problem)
        return data

    def service_kwargs(self) -> dict[str, Any]:
        """What campaign_create_from_preset takes."""
        return {"office": self.offices.first(), **self.cleaned_data}


def _activity_label(activity: Any) -> str:
    basis = activity.basis_document or activity.get_basis_kind_display()
    return f"{activity.organiser.name} · {activity.name}({basis})"


class ConfirmForm(forms.Form):
    """The confirmation page's button: present only when the user confirmed."""

    confirm = forms.BooleanField(required=True, widget=forms.HiddenInput)


class UploadForm(forms.Form):
    """An import page's first step. Type, size and zip checks are upload_stage's
    (core/uploads.py), the same for every import."""

    file = forms.FileField(
        label=_("文件 (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx", "class": "form-control"}),
    )


class ImportConfirmForm(forms.Form):
    """An import preview's buttons: which staged upload (upload_get checks it is this user's,
    for this campaign and kind), and for representatives whether unknown columns are ignored."""

    upload = forms.UUIDField()
    ignore_unknown = forms.BooleanField(required=False)


class RulesForm(forms.Form):
    """The threshold, each category's quotas, each phase's dates, each representative group's
    target share (the composition check's quota) and the 公示 notice fields
    (period, objection channels, issuer: what scoring.publication.check_publish asks for)."""

    NOTICE_FIELDS = NOTICE_FIELDS

    threshold = forms.DecimalField(
        label=_("满意率整改线"), min_value=0, max_value=1, max_digits=6, decimal_places=4,
        help_text=_("0 到 1 之间,例如 0.9 表示 90%"),
        widget=forms.NumberInput(attrs={"step": "0.0001", "class": "form-control"}),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        initial: dict[str, Any] = {"threshold": campaign.threshold}
        initial.update({name: getattr(campaign, name) for name in self.NOTICE_FIELDS})
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.categories = list(campaign.categories.all())
        self.phases = list(campaign.phases.all())
        number = {"class": "form-control", "inputmode": "numeric"}
        day = {"type": "date", "class": "form-control"}
        for c in self.categories:
            self.fields[f"winners_{c.pk}"] = forms.IntegerField(
                label=_("优胜名额"), min_value=0, initial=c.winners,
                widget=forms.NumberInput(attrs=number))
            self.fields[f"last_place_{c.pk}"] = forms.IntegerField(
                label=_("末位名额"), min_value=0, initial=c.last_place,
                widget=forms.NumberInput(attrs=number))
        for p in self.phases:
            self.fields[f"start_{p.pk}"] = forms.DateField(
                label=_("开始日期"), required=False, initial=p.start,
                widget=forms.DateInput(attrs=day, format="%Y-%m-%d"))
            self.fields[f"end_{p.pk}"] = forms.DateField(
                label=_("结束日期"), required=False, initial=p.end,
                widget=forms.DateInput(attrs=day, format="%Y-%m-%d"))
        self.groups = list(campaign.groups.all())
        for g in self.groups:
            self.fields[f"share_{g.pk}"] = forms.DecimalField(
                label=_("目标比例"), required=False, min_value=0, max_value=1, max_digits=5,
                decimal_places=4, initial=g.target_share,
                help_text=_("例如 0.6 表示 60%"),
                widget=forms.NumberInput(attrs={**number, "step": "0.0001",
                                                "inputmode": "decimal"}))
            self.fields[f"minimum_{g.pk}"] = forms.BooleanField(
                label=_("比例为下限"), required=False, initial=g.target_is_minimum,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
            self.fields[f"weight_{g.pk}"] = forms.DecimalField(
                label=_("计分权重"), required=False, min_value=0, max_digits=6,
                decimal_places=4, initial=g.weight,
                help_text=_("仅用于平均分计分;留空表示不加权"),
                widget=forms.NumberInput(attrs={**number, "step": "any",
                                                "inputmode": "decimal"}))
        for name in self.NOTICE_FIELDS:
            model_field = Campaign._meta.get_field(name)
            assert isinstance(model_field, models.Field)
            field = model_field.formfield()
            assert field is not None
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs=day, format="%Y-%m-%d")
            else:
                field.widget.attrs["class"] = "form-control"
            self.fields[name] = field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for p in self.phases:
            start, end = data.get(f"start_{p.pk}"), data.get(f"end_{p.pk}")
            if start and end and end < start:
                self.add_error(f"end_{p.pk}", _("结束日期不能早于开始日期"))
        start, end = data.get("notice_from"), data.get("notice_to")
        if start and end and end < start:
            self.add_error("notice_to", _("公示截止日期不能早于开始日期"))
        return data

    def rows(self) -> dict[str, list[tuple[Any, Any, Any]]]:
        """Bound fields grouped for the template: (object, first field, second field)."""
        return {
            "categories": [(c, self[f"winners_{c.pk}"], self[f"last_place_{c.pk}"])
                           for c in self.categories],
            "phases": [(p, self[f"start_{p.pk}"], self[f"end_{p.pk}"]) for p in self.phases],
        }

    def group_rows(self) -> list[tuple[Any, Any, Any, Any]]:
        """(group, share, is-minimum, weight) bound fields for the template."""
        return [(g, self[f"share_{g.pk}"], self[f"minimum_{g.pk}"], self[f"weight_{g.pk}"])
                for g in self.groups]

    def notice_fields(self) -> list[Any]:
        """The 公示 notice's bound fields, in order, for the template."""
        return [self[name] for name in self.NOTICE_FIELDS]

    def service_kwargs(self) -> dict[str, Any]:
        """What workspace.rules.campaign_rules_save takes."""
        d = self.cleaned_data
        return {
            "threshold": d["threshold"],
            "quotas": {c.pk: (d[f"winners_{c.pk}"], d[f"last_place_{c.pk}"])
                       for c in self.categories},
            "dates": {p.pk: (d[f"start_{p.pk}"], d[f"end_{p.pk}"]) for p in self.phases},
            "notice": {name: d[name] for name in self.NOTICE_FIELDS},
            "groups": {g.pk: (d[f"share_{g.pk}"], bool(d[f"minimum_{g.pk}"]),
                              d[f"weight_{g.pk}"]) for g in self.groups},
        }


class ConfigForm(forms.ModelForm):
    """The campaign's settings on the configuration page (campaigns.configuration
    SETTINGS_FIELDS); what may not change once ballots exist is refused by the service."""

    class Meta:
        model = Campaign
        fields = SETTINGS_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs["class"] = "form-control"
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3


class OptionForm(forms.Form):
    """One rating option, best first; `blank` marks what an unfilled answer counts as."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    label = forms.CharField(label=_("等次"), max_length=20,
                            widget=forms.TextInput(attrs={"class": "form-control"}))
    weight = forms.DecimalField(
        label=_("分值"), min_value=0, max_digits=10, decimal_places=4,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "any",
                                        "inputmode": "decimal"}))
    satisfied = forms.BooleanField(label=_("计入满意"), required=False)
    counted = forms.BooleanField(label=_("计入有效票"), required=False)
    blank = forms.BooleanField(label=_("未填写视为此项"), required=False)


class DimensionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("评议内容"), max_length=50,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    description = forms.CharField(
        label=_("说明"), required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}))


class _RowsFormSet(forms.BaseFormSet):
    """Rows whose required fields are all left empty are dropped, not refused (the spare
    rows for a new option), and a row ticked 删除 is left out."""

    def kept(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")]


OptionFormSet = forms.formset_factory(OptionForm, formset=_RowsFormSet, extra=1,
                                      can_delete=True, max_num=MAX_RATING_OPTIONS)
DimensionFormSet = forms.formset_factory(DimensionForm, formset=_RowsFormSet, extra=1,
                                         can_delete=True, max_num=MAX_CELLS)


def config_forms(campaign: Campaign, data: Any = None, *,
                 locked: bool = False) -> tuple[ConfigForm, Any, Any]:
    """The configuration page's three forms, filled from the campaign when not posted. With
    `locked` (ballots exist) the scale and dimensions are shown, never taken from the post."""
    options = [
        {"id": o.pk, "label": o.label, "weight": o.weight.normalize(), "satisfied": o.satisfied,
         "counted": o.counted, "blank": o.pk == campaign.blank_means_id}
        for o in campaign.options.all()
    ]
    dims = [{"id": d.pk, "name": d.name, "description": d.description}
            for d in campaign.dimensions.all()]
    formsets = (OptionFormSet(None if locked else data, initial=options, prefix="options"),
                DimensionFormSet(None if locked else data, initial=dims, prefix="dimensions"))
    for formset in formsets if locked else ():
        formset.extra = 0  # no empty row to add to a scale that cannot change
    return (ConfigForm(data, instance=Campaign.objects.get(pk=campaign.pk)), *formsets)


def config_service_kwargs(settings: ConfigForm, options: Any, dims: Any) -> dict[str, Any]:
    """What campaigns.configuration.campaign_configure takes, from valid forms (an unbound
    formset, locked, gives what the campaign has)."""
    kept = options.kept() if options.is_bound else options.initial
    blanks = [o["label"] for o in kept if o.get("blank")]
    if len(blanks) > 1:
        raise forms.ValidationError(_("“未填写视为此项”只能选一项。"))
    return {
        "settings": {name: settings.cleaned_data[name] for name in SETTINGS_FIELDS},
        "options": [OptionSpec(o.get("id"), o["label"], o["weight"], bool(o["satisfied"]),
                               bool(o["counted"])) for o in kept],
        "dimensions": [DimensionSpec(d.get("id"), d["name"], d.get("description", ""))
                       for d in (dims.kept() if dims.is_bound else dims.initial)],
        "blank_means": blanks[0] if blanks else None,
    }
