from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo campaign (`manage.py demo`): at the top, since it fills every layer."""

    name = "demo"
    verbose_name = "demo"
