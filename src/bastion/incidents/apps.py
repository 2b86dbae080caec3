from django.utils.translation import gettext_lazy as _

from bastion.core.subpackages import SubPackageModels


class IncidentsConfig(SubPackageModels):
    name = "bastion.incidents"
    label = "incidents"
    verbose_name = _("Control areas")
    model_modules = ("transfers.models",)
    # Django picks an app's config by itself only when its module defines one class: this
    # module also holds the imported base class, so say which one.
    default = True

    def ready(self) -> None:
        from bastion.incidents import figures
        from bastion.incidents.models import STRICTNESS
        from bastion.incidents.transfers.queries import FIGURES as TRANSFER_FIGURES
        from bastion.incidents.transfers.queries import daily_figures as transfer_figures
        from bastion.reports.registry import Figure, register, register_building_levels

        register(
            module="incidents",
            order=55,
            figures=[Figure(key, label) for key, label in figures.FIGURES.items()],
            compute=figures.daily_figures,
        )
        register_building_levels(
            figures.building_levels,
            levels=[(level.value, level.label) for level in STRICTNESS],
            label=_("Control levels"),
        )

        register(
            module="transfers",
            order=75,
            label=_("Transfers"),
            figures=[Figure(key, label) for key, label in TRANSFER_FIGURES.items()],
            compute=transfer_figures,
        )
