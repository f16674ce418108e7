from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BallotsConfig(AppConfig):
    name = "ballots"
    verbose_name = _("选票")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ballots import receivers
        from campaigns.signals import status_changed, status_checks

        status_checks.connect(receivers.paper_blocks_close, dispatch_uid="pingyi-paper-close")
        status_checks.connect(receivers.scans_block_close, dispatch_uid="pingyi-scan-close")
        status_changed.connect(receivers.scrub_after_close, dispatch_uid="pingyi-scrub-close")
        status_changed.connect(
            receivers.delete_code_files_after_close, dispatch_uid="pingyi-code-files-close"
        )
