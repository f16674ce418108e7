"""A department's pages (role 举办单位, issue 22): its own activities of the cleanup, the
registration form (usable on a phone), corrections and withdrawals, the import of the
《自查登记表》 (upload → preview → confirm, all or nothing), and 报送自查. The office uses the
same form and import for any organiser (as the office: `by_office`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.spreadsheets import SpreadsheetError
from core.uploads import UploadRefused, upload_apply, upload_confirmation, upload_preview
from registry.access import MANAGE, REGISTER, VIEW, activity_for, cleanup_for, own_organisers
from registry.forms import ActivityForm, ReasonForm, UploadForm
from registry.imports import COLUMNS, blank_form, registration_import, registration_parse
from registry.models import Activity, Cleanup, Organiser
from registry.screening import screening_flags
from registry.services import (
    activity_register,
    activity_update,
    activity_withdraw,
    editing_problems,
    final_decisions,
    organiser_add,
    organiser_submit,
)
from registry.stats import Counts, self_check_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND = "registry_registration"


def _department(request: HttpRequest, slug: str) -> tuple[Cleanup, list[Organiser]]:
    cleanup = cleanup_for(request.user, slug)
    organisers = own_organisers(request.user, cleanup)
    if not organisers:
        raise PermissionDenied(_("本账号没有关联本次清理工作的举办单位,请联系联席会议办公室。"))
    return cleanup, organisers


@login_required
@require_GET
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    """The department's page: its activities, what the screening will ask about, its counts
    (自查统计表 row), and 报送自查."""
    cleanup, organisers = _department(request, slug)
    # The outcome reaches the departments with the 公示, not while the rounds deliberate.
    published = cleanup.status in (Cleanup.Status.PUBLICITY, Cleanup.Status.DONE)
    finals = final_decisions(cleanup) if published else {}
    blocks = []
    for o in organisers:
        activities = list(o.activities.select_related("proposal_merge_into").order_by(
            "status", "name"))
        counts = Counts(o.name)
        for a in activities:
            if a.status == Activity.Status.REGISTERED:
                counts.add(a)
        blocks.append({"o": o, "activities": [(a, screening_flags(a), finals.get(a.pk))
                                              for a in activities],
                       "counts": counts, "problems": editing_problems(o, by_office=False)})
    return render(request, "registry/mine.html", {
        "cleanup": cleanup, "blocks": blocks, "header": self_check_header(),
        "phases": cleanup.phases.all(),
    })


def _may_edit_as(request: HttpRequest, cleanup: Cleanup,
                 organiser: Organiser) -> bool:
    """True: as the office; False: as the organiser's department; PermissionDenied else."""
    if request.user.has_perm(MANAGE):
        return True
    if request.user.has_perm(REGISTER) and organiser in own_organisers(request.user, cleanup):
        return False
    raise PermissionDenied


def _form_page(request: HttpRequest, cleanup: Cleanup, form: ActivityForm,
               organiser: Organiser | None, activity: Activity | None,
               choices: list[Organiser]) -> HttpResponse:
    return render(request, "registry/activity_form.html", {
        "cleanup": cleanup, "form": form, "organiser": organiser, "a": activity,
        "choices": choices, "problems": editing_problems(organiser, by_office=request.user
                                                        .has_perm(MANAGE)) if organiser else [],
    })


def _apply_errors(form: ActivityForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            for e in errs:
                form.add_error(field if field in form.fields else None, e)
    else:
        form.add_error(None, exc)


@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest, slug: str) -> HttpResponse:
    cleanup = cleanup_for(request.user, slug)
    by_office = request.user.has_perm(MANAGE)
    choices = (list(cleanup.organisers.all()) if by_office
               else own_organisers(request.user, cleanup))
    if not choices and not by_office:
        raise PermissionDenied
    wanted = request.POST.get("organiser") or request.GET.get("organiser", "")
    organiser = next((o for o in choices if str(o.pk) == wanted),
                     choices[0] if len(choices) == 1 else None)
    form = ActivityForm(request.POST or None, cleanup=cleanup)
    if request.method == "POST" and form.is_valid():
        try:
            if organiser is None:
                new_name = request.POST.get("organiser_name", "").strip()
                if not (by_office and new_name):
                    raise ValidationError(_("请选择举办单位"))
                organiser = organiser_add(cleanup=cleanup, name=new_name, user=request.user)
            _may_edit_as(request, cleanup, organiser)
            activity = activity_register(organiser=organiser, data=form.data_object(),
                                         user=request.user, by_office=by_office)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已登记“%(n)s”。") % {"n": activity.name})
            if "another" in request.POST:
                return redirect(reverse("registry_activity_new", args=[slug])
                                + f"?organiser={organiser.pk}")
            return redirect("registry_activities" if by_office else "registry_mine", slug=slug)
    return _form_page(request, cleanup, form, organiser, None, choices)


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    cleanup = cleanup_for(request.user, slug)
    activity, _office = activity_for(request.user, cleanup, pk)
    by_office = _may_edit_as(request, cleanup, activity.organiser)
    form = ActivityForm(request.POST or None, cleanup=cleanup, instance=activity)
    if request.method == "POST" and form.is_valid():
        try:
            activity_update(activity=activity, data=form.data_object(), user=request.user,
                            by_office=by_office)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            if by_office:
                return redirect("registry_activity", slug=slug, pk=activity.pk)
            return redirect("registry_mine", slug=slug)
    return _form_page(request, cleanup, form, activity.organiser, activity, [])


@login_required
@require_POST
def activity_withdraw_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    cleanup = cleanup_for(request.user, slug)
    activity, _office = activity_for(request.user, cleanup, pk)
    by_office = _may_edit_as(request, cleanup, activity.organiser)
    form = ReasonForm(request.POST)
    try:
        activity_withdraw(activity=activity, reason=form.data.get("reason", ""),
                          user=request.user, by_office=by_office)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("已撤回“%(n)s”的登记。") % {"n": activity.name})
    return redirect("registry_activities" if by_office else "registry_mine", slug=slug)


@login_required
@require_POST
def submit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    cleanup, organisers = _department(request, slug)
    organiser = get_object_or_404(Organiser, cleanup=cleanup, pk=pk)
    if organiser not in organisers:
        raise PermissionDenied
    try:
        organiser_submit(organiser=organiser, user=request.user)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("已报送“%(o)s”的自查。") % {"o": organiser.name})
    return redirect("registry_mine", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload the 自查登记表 → preview (nothing saved, every problem named) → confirm."""
    cleanup = cleanup_for(request.user, slug)
    if request.user.has_perm(MANAGE):
        names: list[str] | None = None
    else:
        names = [o.name for o in own_organisers(request.user, cleanup)]
        if not names:
            raise PermissionDenied
    back = reverse("registry_import", args=[slug])
    context: dict[str, Any] = {"cleanup": cleanup, "columns": COLUMNS, "form": UploadForm(),
                               "names": names}
    if request.method == "POST" and "upload" in request.POST:
        staged = upload_confirmation(request, upload_id=request.POST.get("upload"), kind=KIND,
                                     campaign=None, back=back)
        if isinstance(staged, HttpResponseRedirect):
            return staged
        try:
            counts = upload_apply(upload=staged, apply=lambda path: registration_import(
                cleanup=cleanup, file=path, user=request.user, organisers=names))
        except (SpreadsheetError, ValidationError) as exc:
            context["errors"] = [str(e) for e in getattr(exc, "errors", [])] or [
                str(m) for m in getattr(exc, "messages", [str(exc)])]
            return render(request, "registry/import.html", context, status=400)
        messages.success(request, _("已导入:新登记 %(c)d 项,更正 %(u)d 项。")
                         % {"c": counts["created"], "u": counts["updated"]})
        return redirect("registry_activities" if names is None else "registry_mine", slug=slug)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            try:
                upload, plan = upload_preview(
                    file=form.cleaned_data["file"], kind=KIND, campaign=None,
                    user=request.user,
                    parse=lambda up: registration_parse(cleanup, up.path, organisers=names))
            except (UploadRefused, SpreadsheetError) as exc:
                context["errors"] = [str(e) for e in exc.errors]
                return render(request, "registry/import.html", context, status=400)
            context.update(upload=upload, plan=plan)
    return render(request, "registry/import.html", context)


@login_required
@require_GET
def blank_template(request: HttpRequest) -> HttpResponse:
    if not (request.user.has_perm(VIEW) or request.user.has_perm(REGISTER)):
        raise PermissionDenied
    response = HttpResponse(blank_form(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename=\"zicha-dengjibiao.xlsx\""
    return response
