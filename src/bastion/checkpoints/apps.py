from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckpointsConfig(AppConfig):
    name = "bastion.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints")

    def ready(self) -> None:
        from bastion.checkpoints.queries import FIGURES, daily_figures
        from bastion.reports.registry import Figure, register

        register(
            module="checkpoints",
            order=65,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
