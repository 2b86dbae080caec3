from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "bastion.notices"
    label = "notices"
