from django.apps import AppConfig


class CompatApiConfig(AppConfig):
    name = "compat_api"
