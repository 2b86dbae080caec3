from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "bastion.testing"
    label = "testing"
