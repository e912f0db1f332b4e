from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "hamseda.mail"
