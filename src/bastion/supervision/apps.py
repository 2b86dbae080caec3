from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "bastion.supervision"
    label = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        from bastion.reports.registry import Figure, register
        from bastion.supervision.queries import FIGURES, daily_figures

        register(
            module="supervision",
            order=70,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
