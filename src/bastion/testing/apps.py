from django.apps import AppConfig


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
