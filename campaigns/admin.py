"""The office's configuration screens. Every save writes the audit log; once a campaign has
ballots its scale, dimensions and units are locked (the lock is checked in the forms so the
user sees a message, and again in the services)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.access import sees_all_offices, visible_campaigns
from campaigns.configuration import LOCKED_MESSAGE, settings_problems
from campaigns.forms import CloneCampaignForm, PresetCampaignForm, UnitImportForm
from campaigns.models import (
    MAX_RATING_OPTIONS,
    Campaign,
    CampaignUnit,
    Category,
    Dimension,
    GradeBand,
    ImportBatch,
    Office,
    Phase,
    RatingOption,
    RepresentativeGroup,
    Unit,
)
from campaigns.services import (
    campaign_clone_for_next_year,
    campaign_create_from_preset,
    campaign_set_status,
    status_change_problems,
    units_import,
    units_parse,
)
from core.audit import audit, changed_fields, snapshot
from core.models import StagedUpload
from core.spreadsheets import SpreadsheetError
from core.uploads import (
    upload_apply,
    upload_confirmation,
    upload_preview,
)

admin.site.site_header = gettext_lazy("Pingyi 评议 · 管理后台")
admin.site.site_title = gettext_lazy("Pingyi 评议")
admin.site.index_title = gettext_lazy("评议办公室")



class OfficeScopedMixin:
    """For the admin of rows that belong to a campaign: another office's rows are not listed,
    shown or offered (campaigns.access), and the campaign filter lists only campaigns that
    have rows here. Holders of all-office access see everything, rows of no campaign too."""

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)  # type: ignore[misc]  # a mixin of ModelAdmin
        if sees_all_offices(request.user):
            return qs
        return qs.filter(campaign__in=visible_campaigns(request.user))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "campaign":
            kwargs["queryset"] = visible_campaigns(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]  # a mixin of ModelAdmin

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)  # type: ignore[misc]  # a mixin of ModelAdmin
        # The plain filter would list every campaign's name, other offices' too.
        return [
            ("campaign", admin.RelatedOnlyFieldListFilter) if f == "campaign" else f
            for f in filters
        ]


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit entry for every add, change and delete made through the admin."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        if before is None:
            audit(user=request.user, action=f"{obj._meta.model_name}.create", obj=obj, after=after)
        elif changed_fields(before, after):
            audit(user=request.user, action=f"{obj._meta.model_name}.update", obj=obj,
                  before=before, after=after)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit(user=request.user, action=f"{obj._meta.model_name}.delete", obj=obj,
              before=snapshot(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        befores = {
            f.instance.pk: snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.forms
            if f.instance.pk and f.has_changed()
        }
        # Deleted inline rows: snapshot them before the formset removes them.
        deleted = [
            (f.instance, snapshot(f.instance))
            for f in formset.forms
            if f.instance.pk and formset.can_delete and formset._should_delete_form(f)
        ]
        instances = formset.save()
        for obj, snap in deleted:
            audit(user=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, before=snap)
        for obj in instances:
            after = snapshot(obj)
            before = befores.get(obj.pk)
            name = obj._meta.model_name
            if before is None:
                audit(user=request.user, action=f"{name}.create", obj=obj, after=after)
            elif changed_fields(before, after):
                audit(user=request.user, action=f"{name}.update", obj=obj, before=before,
                      after=after)


class LockedWhenBallotsFormSet(BaseInlineFormSet):
    """Options and dimensions define what was voted on: frozen once a ballot exists."""

    def clean(self) -> None:
        super().clean()
        campaign = self.instance
        if campaign.pk and campaign.has_ballots() and self.has_changed():
            raise ValidationError(LOCKED_MESSAGE)


class RatingOptionFormSet(LockedWhenBallotsFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            f for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("label")
        ]
        if len(kept) < 2:
            raise ValidationError(_("评价等次至少需要两项。"))
        if len(kept) > MAX_RATING_OPTIONS:
            raise ValidationError(
                _("评价等次最多 %(n)d 项。") % {"n": MAX_RATING_OPTIONS}
            )
        labels = [f.cleaned_data["label"] for f in kept]
        if len(set(labels)) != len(labels):
            raise ValidationError(_("评价等次名称不能重复。"))


class RatingOptionInline(admin.TabularInline):
    model = RatingOption
    formset = RatingOptionFormSet
    extra = 0
    fields = ("order", "label", "weight", "satisfied", "counted")


class DimensionInline(admin.TabularInline):
    model = Dimension
    formset = LockedWhenBallotsFormSet
    extra = 0
    fields = ("order", "name", "description")


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    fields = ("order", "name", "winners", "last_place")


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("order", "name", "start", "end", "description")


class RepresentativeGroupInline(admin.TabularInline):
    model = RepresentativeGroup
    extra = 0
    fields = ("order", "name", "target_share", "target_is_minimum", "weight")


class GradeBandInline(admin.TabularInline):
    model = GradeBand
    extra = 0
    fields = ("minimum", "label")


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = (
            "name", "slug", "office", "year", "series", "previous", "status", "aggregation",
            "threshold",
            "blank_means", "anonymous", "double_entry", "min_new_share", "min_cell_ballots",
            "rules_text",
            "scale_explanation", "instructions",
            "notice_from", "notice_to", "objection_phone", "objection_address",
            "objection_email", "issuer",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "blank_means" in self.fields:
            qs = RatingOption.objects.filter(campaign=self.instance) if self.instance.pk else (
                RatingOption.objects.none())
            cast(forms.ModelChoiceField, self.fields["blank_means"]).queryset = qs
        if "previous" in self.fields and self.instance.pk:
            previous = cast(forms.ModelChoiceField, self.fields["previous"])
            previous.queryset = Campaign.objects.exclude(pk=self.instance.pk)
        if "status" in self.fields:
            status = cast(forms.ChoiceField, self.fields["status"])
            if self.instance.status == Campaign.Status.PUBLISHED:
                # Withdrawn from the results page, which keeps the publication record.
                status.disabled = True
            else:
                # Publishing needs its publication record (the results page makes it).
                status.choices = [
                    (value, label)
                    for value, label in Campaign.Status.choices
                    if value != Campaign.Status.PUBLISHED
                ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        c = self.instance
        if not c.pk:
            return data
        # The office's configuration page refuses the same changes (campaigns/configuration.py).
        values = {k: data[k] for k in ("anonymous", "min_cell_ballots") if k in data}
        for field, problem in settings_problems(
            c, values, blank_means_changed="blank_means" in self.changed_data
        ).items():
            self.add_error(field, problem)
        if "status" in self.changed_data:
            for problem in status_change_problems(c, data["status"]):
                self.add_error("status", problem)
        return data


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    form = CampaignForm
    list_display = ("name", "year", "series", "status", "preset", "aggregation")
    list_filter = ("status", "series", "year")
    search_fields = ("name", "slug", "series")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [
        RatingOptionInline,
        DimensionInline,
        CategoryInline,
        PhaseInline,
        RepresentativeGroupInline,
        GradeBandInline,
    ]
    fieldsets = (
        (None, {"fields": ("name", "slug", "office", "year", "series", "previous", "status")}),
        (gettext_lazy("计分规则"), {"fields": ("aggregation", "threshold", "blank_means")}),
        (gettext_lazy("评议方式"), {"fields": ("anonymous", "double_entry", "min_new_share",
                                             "min_cell_ballots")}),
        (gettext_lazy("说明"), {"fields": ("rules_text", "scale_explanation", "instructions")}),
        (gettext_lazy("结果公示"), {"fields": (("notice_from", "notice_to"), "objection_phone",
                                             "objection_address", "objection_email", "issuer")}),
    )
    change_form_template = "admin/campaigns/campaign/change_form.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        # Another office's campaigns are not listed, opened or changed (campaigns/access.py).
        return super().get_queryset(request).filter(pk__in=visible_campaigns(request.user))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "office":
            kwargs["queryset"] = _offices_of(request.user)
            kwargs["required"] = not sees_all_offices(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """The status goes through its one service (checks, audit, closing's effects such as
        settling the codes), never saved here with the other fields."""
        wanted = obj.status
        if "status" in form.changed_data or not change:
            obj.status = form.initial.get("status", Campaign.Status.DRAFT) if change else (
                Campaign.Status.DRAFT)
        super().save_model(request, obj, form, change)
        if wanted != obj.status:
            campaign_set_status(campaign=obj, status=wanted, user=request.user)
            obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Ballots decide careers: a campaign that has any is never deleted from the admin.
        if obj is not None and obj.has_ballots():
            return False
        return super().has_delete_permission(request, obj)
    change_list_template = "admin/campaigns/campaign/change_list.html"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("from-preset/", wrap(self.from_preset_view), name="campaigns_campaign_preset"),
            path("<int:pk>/clone/", wrap(self.clone_view), name="campaigns_campaign_clone"),
            path("<int:pk>/import-units/", wrap(self.import_units_view),
                 name="campaigns_campaign_import_units"),
            *super().get_urls(),
        ]

    def _require_configure(self, request: HttpRequest) -> None:
        if not request.user.has_perm("campaigns.configure_campaign"):
            raise PermissionDenied

    def from_preset_view(self, request: HttpRequest) -> HttpResponse:
        self._require_configure(request)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PresetCampaignForm(request.POST or None)
        offices = _offices_of(request.user)
        if sees_all_offices(request.user) or offices.count() > 1:
            # A choice only when there is one to make; a single office is simply used.
            form.fields["office"] = forms.ModelChoiceField(
                queryset=offices, label=_("评议办公室"),
                required=not sees_all_offices(request.user))
        elif not offices.exists():
            raise PermissionDenied(_("您不属于任何评议办公室,不能创建评议活动。"))
        if request.method == "POST" and form.is_valid():
            data = {"office": offices.first(), **form.cleaned_data}
            campaign = campaign_create_from_preset(user=request.user, **data)
            messages.success(request, _("已由预设创建评议活动。所有设置仍可修改。"))
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        context = {**self.admin_site.each_context(request), "form": form,
                   "title": _("由预设创建评议活动"), "opts": self.model._meta}
        return render(request, "admin/campaigns/campaign/simple_form.html", context)

    def clone_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require_configure(request)
        source = get_object_or_404(self.get_queryset(request), pk=pk)
        initial = {"year": source.year + 1, "slug": f"{source.slug}-{source.year + 1}",
                   "name": source.name.replace(str(source.year), str(source.year + 1))}
        form = CloneCampaignForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                new = campaign_clone_for_next_year(source=source, user=request.user,
                                                   **form.cleaned_data)
            except ValueError as exc:  # a slug in use, or the registry's freeze (registry/freeze.py)
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已复制为下一年度的评议活动,并与上一年关联。"))
                return HttpResponseRedirect(
                    reverse("admin:campaigns_campaign_change", args=[new.pk]))
        context = {**self.admin_site.each_context(request), "form": form, "original": source,
                   "title": _("复制为下一年度:%(n)s") % {"n": source.name}, "opts": self.model._meta}
        return render(request, "admin/campaigns/campaign/simple_form.html", context)

    def import_units_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Upload → preview (nothing saved) → confirm (all or nothing), through the staged
        uploads of core/uploads.py like every import."""
        self._require_configure(request)
        campaign = get_object_or_404(self.get_queryset(request), pk=pk)
        template = "admin/campaigns/campaign/import_units.html"
        kind = ImportBatch.Kind.UNITS
        context: dict[str, Any] = {**self.admin_site.each_context(request), "original": campaign,
                                   "opts": self.model._meta,
                                   "title": _("导入被评单位:%(n)s") % {"n": campaign.name}}
        if request.method == "POST" and "upload" in request.POST:
            upload = upload_confirmation(
                request, upload_id=request.POST["upload"], kind=kind, campaign=campaign,
                back=request.path,
            )
            if not isinstance(upload, StagedUpload):
                return upload
            filename = upload.filename
            try:
                counts = upload_apply(upload=upload, apply=lambda path: units_import(
                    campaign=campaign, plan=units_parse(campaign, path, filename),
                    user=request.user))
            except (SpreadsheetError, ValidationError) as exc:
                context.update(errors=_import_errors(exc), form=UnitImportForm())
                return render(request, template, context)
            messages.success(request, _("已导入:新增 %(created)d,更新 %(updated)d,新类别 %(categories)d")
                             % counts)
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[pk]))
        form = UnitImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                if campaign.has_ballots():
                    raise ValidationError(LOCKED_MESSAGE)
                upload, plan = upload_preview(
                    file=form.cleaned_data["file"], kind=kind, campaign=campaign,
                    user=request.user, parse=lambda up: units_parse(campaign, up.path, up.filename))
            except (SpreadsheetError, ValidationError) as exc:
                context["errors"] = _import_errors(exc)
            else:
                context.update(plan=plan, upload=upload)
        context["form"] = form
        return render(request, template, context)


def _offices_of(user: Any) -> Any:
    """The offices `user` may give a campaign: all of them when granted all offices."""
    return Office.objects.all() if sees_all_offices(user) else Office.objects.filter(members=user)


@admin.register(Office)
class OfficeAdmin(AuditedAdmin):
    """Offices and their members. Only superusers and staff granted all offices change them:
    otherwise office staff (who may change every model of the app) could join another office."""

    list_display = ("name", "level")
    search_fields = ("name",)
    filter_horizontal = ("members",)

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        return qs if sees_all_offices(request.user) else qs.filter(members=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return sees_all_offices(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_all_offices(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_all_offices(request.user) and super().has_delete_permission(request, obj)


def _import_errors(exc: SpreadsheetError | ValidationError) -> list[Any]:
    """A refused file's problems, one per line (cells named by sheet, row and column)."""
    if isinstance(exc, SpreadsheetError):
        return list(exc.errors)
    return list(exc.messages)


class CampaignUnitForm(forms.ModelForm):
    class Meta:
        model = CampaignUnit
        fields = ("campaign", "unit", "category", "name", "order", "vertical", "vetoed", "note")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        campaign = data.get("campaign") or (self.instance.campaign if self.instance.pk else None)
        locked_fields = {"campaign", "unit", "category", "name"}
        if campaign and campaign.has_ballots() and (
            not self.instance.pk or locked_fields & set(self.changed_data)
        ):
            raise ValidationError(LOCKED_MESSAGE)
        category = data.get("category")
        if campaign and category and category.campaign_id != campaign.pk:
            self.add_error("category", _("类别不属于本评议活动"))
        return data


@admin.register(CampaignUnit)
class CampaignUnitAdmin(OfficeScopedMixin, AuditedAdmin):
    form = CampaignUnitForm
    list_display = ("name", "campaign", "category", "vertical", "vetoed")
    list_filter = ("campaign", "category__name", "vetoed", "vertical")
    search_fields = ("name", "unit__name", "note")
    list_select_related = ("campaign", "category")
    autocomplete_fields = ("unit",)
    list_per_page = 100

    def delete_model(self, request: HttpRequest, obj: CampaignUnit) -> None:
        if obj.campaign.has_ballots():
            raise PermissionDenied(LOCKED_MESSAGE)
        super().delete_model(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.campaign.has_ballots():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name", "former_names")
    readonly_fields = ("created_at",)

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        # A rename keeps the old name as a former name, so next year's import still finds it.
        if change and "name" in form.changed_data:
            old = Unit.objects.get(pk=obj.pk).name
            names = [n for n in obj.former_names.splitlines() if n.strip()]
            if old not in names:
                obj.former_names = "\n".join([*names, old])
        super().save_model(request, obj, form, change)
