"""The account's own routes: the login and the bearer's refresh, and the custom fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from .render import custom_field
from .state import Account
from .wire import ApiAnswer, answer, body

FIELD_TAKEN = "The name has already been taken."


def login(account: Account, request: Request, _: dict[str, Any]) -> Response:
    key = body(request).get("api_key")
    mode = account.keys.get(key) if isinstance(key, str) else None
    if mode is None:
        raise ApiAnswer(401, "Invalid API key")
    return answer(200, {"bearer": account.issue_token(mode)})


def refresh(account: Account, request: Request, _: dict[str, Any]) -> Response:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    old = account.tokens.pop(token)
    return answer(200, {"bearer": account.issue_token(old.mode)})


def fields(account: Account, request: Request, _: dict[str, Any]) -> Response:
    return answer(200, {"data": [custom_field(f) for f in account.fields.values()]})


def create_field(account: Account, request: Request, _: dict[str, Any]) -> Response:
    data = body(request)
    name, kind = data.get("name"), data.get("type")
    if not isinstance(name, str) or not name.strip():
        raise ApiAnswer(422, "The name field is required.")
    if account.max_field_name and len(name.strip()) > account.max_field_name:
        limit = account.max_field_name
        raise ApiAnswer(422, f"The name may not be greater than {limit} characters.")
    if kind not in ("text", "number", "date"):
        raise ApiAnswer(422, "The selected type is invalid.")
    if any(f.name.casefold() == name.strip().casefold() for f in account.fields.values()):
        raise ApiAnswer(422, FIELD_TAKEN)
    created = account.add_field(name.strip(), kind, data.get("description"))
    return answer(201, {"data": custom_field(created)})


HANDLERS: dict[str, Callable[[Account, Request, dict[str, Any]], Response]] = {
    "login": login,
    "refresh": refresh,
    "fields": fields,
    "create_field": create_field,
}
