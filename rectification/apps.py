from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "rectification"
    verbose_name = _("整改")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The campaign's reports ask scoring.extensions; this app answers with its cases.
        from rectification import receivers  # noqa: F401
