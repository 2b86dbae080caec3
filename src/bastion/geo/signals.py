"""What geo tells other modules without importing them.

`households_created` is sent (inside the creating transaction) with `households`, a list of
saved Household rows carrying their ancestor ids, by every path that creates households: the
single service and the ledger import. Modules that keep per-household rows (a door-knock
campaign's status list) add the new households to what is running."""

from django.dispatch import Signal

households_created = Signal()
