from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "bastion.testing"
    label = "testing"

    def ready(self):
        from bastion.incidents.response.registry import register_opener, register_round_counter
        from bastion.notices.kinds import mark_urgent
        from bastion.testing.results.response import (
            KIND_POSITIVE_POOL,
            home_round_open,
            negative_rounds,
        )

        mark_urgent(KIND_POSITIVE_POOL)  # its people are to be held and retested now
        # The outbreak response: a sealed area's home-sampling round; the lifting rule's
        # negative rounds.
        register_opener("sampling", home_round_open)
        register_round_counter(negative_rounds)

        from bastion.reports.registry import Figure, register
        from bastion.testing.figures import FIGURES, daily_figures

        register(
            module="testing",
            order=50,
            label=_("Testing"),
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
