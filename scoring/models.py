"""What the public sees: a fixed copy of the rankings taken when staff publish (公示).

The public page reads this copy, never the live tally, so a ballot invalidated after
publication cannot silently change what was announced: staff must withdraw and republish,
and both are in the audit log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from core.files import private_files


def ballot_file_name(instance: Publication, filename: str) -> str:
    """A random name in the private files: the address of one file tells nothing of others."""
    return f"ballots/{uuid.uuid4().hex}.jsonl"


class Publication(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="publications")
    published_at = models.DateTimeField(_("公示时间"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Only the rankings and flags (see scoring.publication.public_data): no counts, no comments.
    data = models.JSONField(_("公示内容"))
    # The tally fingerprint (scoring.ballot_file, recount/README.md): the SHA-256 of the ballot
    # file and the configuration the published result was counted from.
    fingerprint = models.CharField(_("计票指纹"), max_length=64)
    # The ballot file as it stood at publication, kept with the fixed copy (recount/README.md):
    # its manifest here, its rows in a private file. Shown to the public only once staff
    # publish it too (ballots_published_at).
    ballot_manifest = models.JSONField(_("选票明细清单"), null=True, blank=True)
    ballot_rows = models.FileField(
        _("选票明细"), storage=private_files, upload_to=ballot_file_name, blank=True
    )
    ballots_published_at = models.DateTimeField(_("选票明细公开时间"), null=True, blank=True)
    ballots_published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdraw_reason = models.TextField(_("撤回原因"), blank=True)

    class Meta:
        verbose_name = _("结果公示")
        verbose_name_plural = _("结果公示")
        ordering = ["-published_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_live_publication_per_campaign",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.published_at:%Y-%m-%d %H:%M}"
