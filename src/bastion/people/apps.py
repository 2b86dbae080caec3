from django.utils.translation import gettext_lazy as _

from bastion.core.subpackages import SubPackageModels


class PeopleConfig(SubPackageModels):
    name = "bastion.people"
    label = "people"
    model_modules = ("mobilization.models",)

    def ready(self) -> None:
        # Mobilization's figures in the daily report (extra cadres, shifts filled and short,
        # check-ins), through the report's one registration interface.
        from bastion.people.mobilization.queries.figures import FIGURES, daily_figures
        from bastion.reports.registry import Figure, register

        register(
            module="mobilization",
            label=_("Mobilization"),
            order=30,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
