"""What the layers above configuration learn of a campaign's life, without being imported.

Configuration sits below ballot collection and may not import it, yet closing a campaign must
refuse while paper entries are still open, and must scrub the codes' traces once it closes.
The ballots app connects receivers to these signals in its `ready()`; `campaign_set_status`
sends them. Both are plain `Signal`s: a receiver's exception aborts the status change, since
the change runs inside one transaction with them.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# Sent before a status change is saved, with `campaign`, `old` and `new` (status values).
# Each receiver returns a list of problems (strings, empty when it has none); any problem
# refuses the change.
status_checks = Signal()

# Sent inside the same transaction after the change is saved, with `campaign`, `old`, `new`
# and `user`.
status_changed = Signal()


def delete_jobs_of_campaign(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Jobs and staged uploads name their campaign by id (core knows no campaign): they go
    with it."""
    from core.files import job_files_remove
    from core.models import BackgroundJob
    from core.uploads import uploads_discard_for_campaign

    jobs = BackgroundJob.objects.filter(campaign_id=instance.pk)
    job_files_remove(jobs, BackgroundJob.FileRemoved.EXPIRED)
    jobs.delete()
    uploads_discard_for_campaign(instance.pk)
