"""Domain errors: a refused write names the field (and the row) and why; nothing changed."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    field: str | None
    message: str
    row: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class DomainError(Exception):
    """One or more problems with a requested write. Raised before anything is written, or
    inside the transaction so that it rolls back."""

    def __init__(self, problems: list[Problem] | str, *, field: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(field=field, message=problems)]
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))

    def as_list(self) -> list[dict]:
        return [p.as_dict() for p in self.problems]


def field_problems(validation_error, *, row: int | None = None, field: str | None = None):
    """Turn a Django ValidationError into Problems."""
    if hasattr(validation_error, "error_dict"):
        return [
            Problem(field=f, message=str(m), row=row)
            for f, errs in validation_error.message_dict.items()
            for m in errs
        ]
    return [Problem(field=field, message=str(m), row=row) for m in validation_error.messages]


class Conflict(DomainError):
    """A write refused because of the current state of the data (a post already held, a
    closed month): the API answers 409, not 422."""
