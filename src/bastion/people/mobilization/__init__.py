"""Mobilization, a part of the people app: the reserve pool and dispatch, report-in, places on
duty with their rosters and check-ins, organisations at sites, allowances.

Its tables keep the app label "people" (declared in `models.py`, imported by `people.models`);
each layer (`services`, `queries`, `api`, `views`) is a package split by concept."""
