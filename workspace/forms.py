from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campaigns.access import sees_all_offices
from campaigns.forms import PresetCampaignForm as BasePresetForm
from campaigns.models import Office

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

    def clean_slug(self) -> str:
        slug: str = super().clean_slug()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("该标识不能使用"))
        return slug

    def service_kwargs(self) -> dict[str, Any]:
        """What campaign_create_from_preset takes."""
        return {"office": self.offices.first(), **self.cleaned_data}


class ConfirmForm(forms.Form):
    """The confirmation page's button: present only when the user confirmed."""

    confirm = forms.BooleanField(required=True, widget=forms.HiddenInput)
