from django.apps import AppConfig


class LedgersConfig(AppConfig):
    name = "bastion.ledgers"
    label = "ledgers"
