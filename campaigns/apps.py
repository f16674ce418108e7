from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("评议活动")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from campaigns.roles import ensure_roles

        # After every app's migrate, not only this one's: the permissions of apps listed after
        # campaigns (ballots, scoring) are created by their own post_migrate, and the roles
        # must get them on the very first migrate of a fresh database. Idempotent and cheap.
        post_migrate.connect(ensure_roles, dispatch_uid="pingyi-ensure-roles")
