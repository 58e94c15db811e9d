"""search[field], search[operator], search[value]: BSG's one search syntax."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request

from .wire import ApiAnswer

OPERATORS = ("like", "=", ">", ">=", "<", "<=")


def criteria(request: Request, fields: Sequence[str]) -> tuple[str, str, str]:
    """The search criteria of a request; 422 when they are incomplete or unknown."""
    field = request.args.get("search[field]", "")
    operator = request.args.get("search[operator]", "=")
    value = request.args.get("search[value]", "")
    if field not in fields and not field.isdigit():
        raise ApiAnswer(422, f"The selected search field is invalid: {field!r}")
    if operator not in OPERATORS:
        raise ApiAnswer(422, f"The selected search operator is invalid: {operator!r}")
    return field, operator, value


def matches(actual: Any, operator: str, wanted: str) -> bool:
    """Compare as numbers when both sides are numbers, else as text; like is a substring."""
    if actual is None:
        return False
    if operator == "like":
        return wanted.strip("%").casefold() in str(actual).casefold()
    left: Any = actual
    right: Any = wanted
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        try:
            right = float(wanted)
        except ValueError:
            return False
    else:
        left = str(actual)
    result: bool = {
        "=": left == right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[operator]
    return result
