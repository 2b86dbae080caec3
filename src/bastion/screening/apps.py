from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "bastion.screening"
    label = "screening"
    verbose_name = _("Screening")

    def ready(self) -> None:
        from bastion.reports.registry import Figure, register, register_building_status
        from bastion.screening.queries import (
            CLEARED_LABEL,
            FIGURES,
            building_completion,
            daily_figures,
        )

        register(
            module="screening",
            order=10,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
        register_building_status(building_completion, label=CLEARED_LABEL)

        from bastion.geo.signals import households_created
        from bastion.screening.services import campaigns_include

        households_created.connect(campaigns_include, dispatch_uid="screening.campaigns_include")
