from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("计票与报告")
    default_auto_field = "django.db.models.BigAutoField"
