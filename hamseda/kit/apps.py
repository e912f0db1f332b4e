from django.apps import AppConfig


class KitConfig(AppConfig):
    name = "hamseda.kit"
    label = "kit"
    verbose_name = "Kit"
