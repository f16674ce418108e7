from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("评比达标表彰项目清理")
    default_auto_field = "django.db.models.BigAutoField"
