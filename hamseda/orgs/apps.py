from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "hamseda.orgs"
