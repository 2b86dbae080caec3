"""The quarantine hotel of the quarantine tests (its staff, site and rooms), for the path from a
release to home monitoring."""

from bastion.quarantine.tests.conftest import rooms, site, staff  # noqa: F401
