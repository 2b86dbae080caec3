"""Kinds of notification that must stand out from routine ones (a positive pool: people to
hold and retest now). A module marks its urgent kinds once at start-up, from its
`AppConfig.ready()`, so this app names no other module's kinds; the inbox lists an urgent
notification first and the pages mark it."""

_URGENT: set[str] = set()


def mark_urgent(kind: str) -> None:
    _URGENT.add(kind)


def urgent_kinds() -> frozenset[str]:
    return frozenset(_URGENT)


def is_urgent(kind: str) -> bool:
    return kind in _URGENT
