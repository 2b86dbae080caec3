from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bastion.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from bastion.core import stored

        stored.connect()
