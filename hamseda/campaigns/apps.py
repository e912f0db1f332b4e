from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "hamseda.campaigns"
