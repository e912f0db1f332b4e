from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "hamseda.petitions"
