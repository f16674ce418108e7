from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("评议工作台")
    default_auto_field = "django.db.models.BigAutoField"
