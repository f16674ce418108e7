"""Verifiable results, the pages: the receipt check and the ballot file on the public side;
publishing the ballot file and the notary's package on the staff side (scoring.verification
does the work)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ballots.models import CodeAttempt
from ballots.online.codes import attempt_record, attempt_wait_minutes, receipt_counted
from campaigns.access import campaign_for
from campaigns.models import Campaign
from core.clients import client_address
from core.jobs import job_start
from core.permissions import perm_required
from scoring.publication import live_publication
from scoring.verification import (
    CONTENT_TYPES,
    FILE_NAMES,
    ballot_file_publish,
    ballot_file_withdraw,
    public_ballot_file,
    published_file,
    recount_zip,
)


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=gettext_lazy("回执号"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false", "placeholder": "XXXXX-XXXXX"}),
    )


@require_http_methods(["GET", "POST"])
def receipt_check(request: HttpRequest, slug: str) -> HttpResponse:
    """公示 page, 回执核对: yes or no, never the ballot's answers. Wrong numbers count towards
    the same limit as wrong codes (ballots.online.codes.attempt_wait_minutes)."""
    campaign = get_object_or_404(Campaign, slug=slug)
    pub = live_publication(campaign)
    if pub is None:
        raise Http404
    ctx: dict[str, object] = {"campaign": campaign, "pub": pub, "title": pub.data["campaign"]}
    form = ReceiptForm(request.POST or None)
    client = client_address(request)
    if request.method == "POST":
        minutes = attempt_wait_minutes(client)
        if minutes:
            ctx |= {"form": form, "wait_minutes": minutes}
            response = render(request, "scoring/receipt.html", ctx, status=429)
            response["Retry-After"] = str(minutes * 60)
            return response
        if form.is_valid():
            found = receipt_counted(campaign, form.cleaned_data["receipt"])
            if found is None:
                form.add_error("receipt", _("回执号格式不正确:应为10位字母和数字,例如 ABCDE-FGHJK"))
            if not found:
                attempt_record(client=client, campaign=campaign, reason=CodeAttempt.Reason.RECEIPT)
            if found is not None:
                ctx["found"] = found
    ctx["form"] = form
    return render(request, "scoring/receipt.html", ctx)


@require_GET
def ballot_file_download(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """The ballot file kept with the live 公示, once staff have published it."""
    campaign = get_object_or_404(Campaign, slug=slug)
    pub = public_ballot_file(campaign)
    if pub is not None and name == "recount.zip":
        response = HttpResponse(recount_zip(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="recount.zip"'
        return response
    if pub is None or name not in FILE_NAMES:
        raise Http404
    response = HttpResponse(published_file(pub, name), content_type=CONTENT_TYPES[name])
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-{name}"'
    return response


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤回原因"), max_length=500)


@perm_required("campaigns.publish_results")
@require_POST
def ballots_publish(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    try:
        ballot_file_publish(campaign=campaign, user=request.user)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("选票明细已公开,公示页面可以下载"))
    return redirect("results", slug=campaign.slug)


@perm_required("campaigns.publish_results")
@require_POST
def ballots_withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤回原因"))
        return redirect("results", slug=campaign.slug)
    try:
        ballot_file_withdraw(campaign=campaign, user=request.user,
                             reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("选票明细已撤回,公示页面不再提供下载"))
    return redirect("results", slug=campaign.slug)


@perm_required("campaigns.view_auditlog")
@require_POST
def notary_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The notary's package holds the audit log, so it is the auditor's to make."""
    campaign = campaign_for(request.user, slug)
    job = job_start(
        kind=_("公证材料包"),
        handler="scoring.verification.run_notary_job",
        campaign=campaign,
        user=request.user,
        permission="campaigns.view_auditlog",
    )
    return redirect("job_page", job_id=job.pk)
