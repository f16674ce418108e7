from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from campaigns.presets import PRESETS


class PresetCampaignForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("预设"),
        choices=[(k, f"{p.series}({k})") for k, p in PRESETS.items()],
    )
    name = forms.CharField(label=_("名称"), max_length=200)
    slug = forms.SlugField(label=_("标识"), max_length=80, help_text=_("用于网址,例如 qianren-2026"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Campaign.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("标识已被使用"))
        return slug


class CloneCampaignForm(forms.Form):
    name = forms.CharField(label=_("新活动名称"), max_length=200)
    slug = forms.SlugField(label=_("新标识"), max_length=80)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Campaign.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("标识已被使用"))
        return slug


class UnitImportForm(forms.Form):
    # Type, size and zip checks are upload_stage's (core/uploads.py), the same for every import.
    file = forms.FileField(
        label=_("单位名单 (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"})
    )
