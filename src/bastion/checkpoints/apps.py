from django.utils.translation import gettext_lazy as _

from bastion.core.subpackages import SubPackageModels


class CheckpointsConfig(SubPackageModels):
    default = True  # apps.py also holds the imported SubPackageModels: name the one
    name = "bastion.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints")
    model_modules = ("loop.models", "station.models")

    def ready(self) -> None:
        from bastion.checkpoints.queries import FIGURES, daily_figures
        from bastion.reports.registry import Figure, register

        register(
            module="checkpoints",
            order=65,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
        from bastion.checkpoints.station import queries as station

        register(
            module="checkpoints.station",
            order=66,
            figures=[Figure(key, label) for key, label in station.FIGURES.items()],
            compute=station.daily_figures,
            label=_("Drivers' service stations"),
        )
