from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "bastion.quarantine"
    label = "quarantine"
    verbose_name = _("Quarantine")

    def ready(self) -> None:
        from bastion.quarantine.queries import FIGURES, daily_figures
        from bastion.reports.registry import Figure, register

        register(
            module="quarantine",
            order=66,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
