"""String choices resolved by small lookup functions with helpful errors."""

from collections.abc import Mapping
from typing import TypeVar

from recurrent.errors import UserInputError

T = TypeVar("T")


def lookup(table: Mapping[str, T], name: str, what: str) -> T:
    """Returns `table[name]`, or raises an error that lists the valid names.

    Args:
        table: the valid choices.
        name: the name asked for (case-insensitive).
        what: what the choice is, for the message (e.g. "cell").
    """
    key = str(name).lower()
    if key not in table:
        valid = ", ".join(sorted(table))
        raise UserInputError(f"unknown {what} {name!r}; choose one of: {valid}")
    return table[key]
