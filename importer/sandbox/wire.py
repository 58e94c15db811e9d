"""Answers and request parsing shared by the sandbox's routes."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response


class ApiAnswer(Exception):
    """An answer other than success, raised from a handler (422, 401, 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer; 204 has no body."""
    if status == 204:
        return Response(status=204)
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def refusal(status: int, message: str) -> Response:
    return answer(status, {"message": message, "errors": []})


def body(request: Request) -> dict[str, Any]:
    """The JSON body of a request; 422 when it is not a JSON object."""
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise ApiAnswer(422, "The given data was invalid.") from None
    if not isinstance(data, dict):
        raise ApiAnswer(422, "The given data was invalid.")
    return data


PAGE_LIMITS = range(15, 501)


def paging(request: Request) -> tuple[int, int]:
    """page[offset] (from 0) and page[limit] (15 to 500, as BSG's OpenAPI description says)."""
    try:
        offset = int(request.args.get("page[offset]", 0))
        limit = int(request.args.get("page[limit]", 50))
    except ValueError:
        raise ApiAnswer(422, "The page offset and limit must be integers.") from None
    if offset < 0 or limit not in PAGE_LIMITS:
        raise ApiAnswer(422, "The page limit must be between 15 and 500.")
    return offset, limit
