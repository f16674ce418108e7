"""The entries' pages (assessment.md section 5): a source office (提供单位) enters deductions
and scores for its own sections; staff approve or reject them and decide objections; an
assessed unit sees its approved entries and objects once. Each page validates a form and
calls the one service of assessments/entries.py."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import assessment_for, sections_for, source_of, visible_assessments
from assessments.entries import (
    entry_review,
    entry_submit,
    objection_decide,
    objection_lodge,
)
from assessments.imports import entries_import, entries_parse
from assessments.models import Assessment, Entry, Item, Section
from core.audit import audit
from core.models import StagedUpload
from core.spreadsheets import SpreadsheetError
from core.uploads import upload_apply, upload_confirmation, upload_preview

REVIEW = "assessments.review_assessment_entries"


def _for_source(user: Any, slug: str) -> tuple[Assessment, str, list[Section]]:
    """A source office's assessment, if it has a section there (404 otherwise)."""
    source = source_of(user)
    assessment = Assessment.objects.filter(slug=slug).first()
    if source is None or assessment is None:
        raise Http404
    sections = sections_for(assessment, source)
    if not sections:
        raise Http404
    return assessment, source, sections


class EntryForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("单位"))
    what = forms.ChoiceField(label=gettext_lazy("考核项目和扣分事项"))
    count = forms.IntegerField(label=gettext_lazy("次数"), min_value=1, required=False)
    points = forms.DecimalField(label=gettext_lazy("每次扣分(有范围的事项)"), required=False,
                                max_digits=8, decimal_places=4)
    score = forms.DecimalField(label=gettext_lazy("得分"), required=False, max_digits=8,
                               decimal_places=4)
    basis = forms.CharField(label=gettext_lazy("依据(通报文号等)"), max_length=300)
    date = forms.DateField(label=gettext_lazy("日期"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    corrects = forms.ChoiceField(label=gettext_lazy("更正本单位此前报送的条目(可不选)"),
                                 required=False)
    evidence = forms.FileField(label=gettext_lazy("证明材料(PDF、JPG、PNG,可不附)"),
                               required=False,
                               widget=forms.ClearableFileInput(
                                   attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))

    def __init__(self, *args: Any, assessment: Assessment, sections: list[Section],
                 source: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A correction replaces one of this office's entries that still stands (section 5).
        self.correctable = {
            str(e.pk): e for e in Entry.objects.filter(
                assessment=assessment, source=source, superseded_by__isnull=True,
                status__in=[Entry.Status.PENDING, Entry.Status.APPROVED],
            ).select_related("unit", "section")
        }
        cast(forms.ChoiceField, self.fields["corrects"]).choices = [("", "—")] + [
            (k, f"{e.unit.name} · {e.section.name} · {e.basis}")
            for k, e in self.correctable.items()]
        self.units = {str(u.pk): u for u in assessment.units.all()}
        cast(forms.ChoiceField, self.fields["unit"]).choices = [
            (k, u.name) for k, u in self.units.items()]
        self.targets: dict[str, tuple[Section, Item | None]] = {}
        for s in sections:
            if s.kind == Section.Kind.SCORE:
                self.targets[f"s{s.pk}"] = (s, None)
            for it in s.items.all():
                self.targets[f"i{it.pk}"] = (s, it)
        cast(forms.ChoiceField, self.fields["what"]).choices = [
            (k, f"{s.name} · {it.name}" if it else f"{s.name}({_('得分')})")
            for k, (s, it) in self.targets.items()
        ]
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-select" if isinstance(
                f.widget, forms.Select) else "form-control")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        section, item = self.targets[d["what"]]
        return {"unit": self.units[d["unit"]], "section": section, "item": item,
                "count": d["count"], "points": d["points"], "score": d["score"],
                "basis": d["basis"], "date": d["date"], "evidence": d.get("evidence"),
                "supersedes": self.correctable.get(d.get("corrects") or "")}


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request: HttpRequest, slug: str) -> HttpResponse:
    """A source office enters a deduction or a score (待审核 until staff approve it)."""
    assessment, source, sections = _for_source(request.user, slug)
    form = EntryForm(request.POST or None, request.FILES or None, assessment=assessment,
                     sections=sections, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            entry_submit(source=source, user=request.user, **form.service_kwargs())
        except ValidationError as exc:
            for m in exc.messages:
                form.add_error(None, m)
        else:
            messages.success(request, _("已报送,待评议办公室审核。"))
            return redirect("assessment_entry_new", slug=slug)
    mine = Entry.objects.filter(assessment=assessment, source=source).select_related(
        "unit", "section", "item").order_by("-id")[:200]
    return render(request, "assessments/entries/new.html",
                  {"assessment": assessment, "source": source, "form": form, "mine": mine})


def _staff_assessment(request: HttpRequest, slug: str) -> Assessment:
    if not request.user.has_perm(REVIEW):
        raise PermissionDenied
    return assessment_for(request.user, slug)


@login_required
def entry_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff: entries waiting for review and objections waiting for a decision, then the
    rest (filtered by status)."""
    assessment = _staff_assessment(request, slug)
    entries: QuerySet[Entry] = Entry.objects.filter(assessment=assessment).select_related(
        "unit", "section", "item", "superseded_by")
    waiting = entries.filter(Q(status=Entry.Status.PENDING)
                             | Q(objection=Entry.Objection.LODGED)).order_by("id")
    status = request.GET.get("status")
    others = entries.exclude(pk__in=waiting.values("pk"))
    if status in Entry.Status.values:
        others = others.filter(status=status)
    return render(request, "assessments/entries/list.html", {
        "assessment": assessment, "waiting": waiting, "others": others.order_by("-id")[:500],
        "status": status, "statuses": Entry.Status.choices,
    })


@login_required
@require_POST
def entry_decide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Staff approve / reject an entry, or uphold / accept an objection, with a reason."""
    assessment = _staff_assessment(request, slug)
    entry = get_object_or_404(Entry, pk=pk, assessment=assessment)
    action = request.POST.get("action")
    reason = request.POST.get("reason", "")
    try:
        if action in ("approve", "reject"):
            entry_review(entry=entry, approve=action == "approve", reason=reason,
                         user=request.user)
        elif action in ("uphold", "accept"):
            objection_decide(entry=entry, accept=action == "accept", reason=reason,
                             user=request.user)
        else:
            raise Http404
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("已处理。"))
    return redirect("assessment_entries", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def my_entries(request: HttpRequest, slug: str) -> HttpResponse:
    """An assessed unit: its approved entries, each open to one objection within the window."""
    account = getattr(request.user, "assessment_unit", None)
    if account is None or not request.user.has_perm("assessments.view_assessment"):
        raise Http404
    assessment = Assessment.objects.filter(slug=slug, units__unit=account.unit).first()
    if assessment is None:
        raise Http404
    entries = Entry.objects.filter(
        assessment=assessment, unit__unit=account.unit, status__in=[
            Entry.Status.APPROVED, Entry.Status.REJECTED],
        reviewed_at__isnull=False,
    ).exclude(status=Entry.Status.REJECTED, objection="").select_related(
        "section", "item").order_by("section__order", "id")
    if request.method == "POST":
        entry = get_object_or_404(entries, pk=request.POST.get("entry") or 0)
        try:
            objection_lodge(entry=entry, text=request.POST.get("text", ""), user=request.user)
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(request, _("申诉已提交,评议办公室将作出处理。"))
        return redirect("assessment_my_entries", slug=slug)
    return render(request, "assessments/entries/mine.html",
                  {"assessment": assessment, "unit": account.unit, "entries": entries})


@login_required
def entry_evidence(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """An entry's evidence, as an attachment, to staff reviewing the assessment, the office
    that entered it, and the unit concerned once approved; every download is in the log."""
    entry = get_object_or_404(Entry.objects.select_related("assessment", "unit"), pk=pk,
                              assessment__slug=slug)
    user: Any = request.user
    allowed = False
    if user.has_perm(REVIEW):
        allowed = visible_assessments(user).filter(pk=entry.assessment_id).exists()
    if not allowed and source_of(user) == entry.source:
        allowed = True
    account = getattr(user, "assessment_unit", None)
    if not allowed and account is not None and account.unit_id == entry.unit.unit_id:
        allowed = entry.status == Entry.Status.APPROVED
    if not allowed or not entry.evidence:
        raise Http404
    audit(user=user, action="entry.evidence_download", obj=entry,
          object_repr=entry.evidence_name)
    return FileResponse(entry.evidence.open("rb"), as_attachment=True,
                        filename=entry.evidence_name or "evidence")


class EntriesFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件 (.xlsx)"), widget=forms.ClearableFileInput(
        attrs={"accept": ".xlsx", "class": "form-control"}))


@login_required
@require_http_methods(["GET", "POST"])
def entries_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff's bulk entry (assessment.md section 7): upload, see what the file holds, confirm
    or discard; staged and applied through core/uploads.py like every import, all or nothing,
    the entries approved by whoever confirms."""
    assessment = _staff_assessment(request, slug)
    kind = f"assessment-entries-{assessment.pk}"
    back = request.path
    context: dict[str, Any] = {"assessment": assessment, "form": EntriesFileForm()}
    if request.method == "POST" and "upload" in request.POST:
        upload = upload_confirmation(request, upload_id=request.POST.get("upload"), kind=kind,
                                     campaign=None, back=back)
        if not isinstance(upload, StagedUpload):
            return upload
        staged: StagedUpload = upload
        try:
            batch = upload_apply(upload=staged, apply=lambda path: entries_import(
                assessment=assessment, file=path, filename=staged.filename, user=request.user))
        except SpreadsheetError as exc:
            context["errors"] = [str(e) for e in exc.errors]
        else:
            messages.success(request, _("已导入 %(n)d 条并审核通过。") % {"n": batch.rows})
            return redirect("assessment_entries", slug=slug)
    elif request.method == "POST":
        form = EntriesFileForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            try:
                upload, entries = upload_preview(
                    file=form.cleaned_data["file"], kind=kind, campaign=None,
                    user=request.user, parse=lambda up: entries_parse(assessment, up.path))
            except SpreadsheetError as exc:
                context["errors"] = [str(e) for e in exc.errors]
            else:
                context.update(upload=upload, entries=entries)
    return render(request, "assessments/entries/upload.html", context)
