from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("评议活动")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from campaigns.models import Campaign
        from campaigns.signals import delete_jobs_of_campaign

        # Background jobs name their campaign by id (core knows no campaign): they go with it.
        post_delete.connect(delete_jobs_of_campaign, sender=Campaign, dispatch_uid="pingyi-jobs")
