from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("系统")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from core.login import connect_signals
        from core.roles import ensure_roles

        # After every app's migrate, not only this one's: the permissions of apps listed after
        # core (campaigns, ballots, scoring) are created by their own post_migrate, and the
        # roles must get them on the very first migrate of a fresh database. Idempotent.
        post_migrate.connect(ensure_roles, dispatch_uid="pingyi-ensure-roles")
        # Logins, failed logins and logouts: counted for the throttle, written to the audit log.
        connect_signals()
