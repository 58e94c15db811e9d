"""Contacts: create one, read, search, replace, delete one or many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from .render import contact, page
from .search import criteria, matches
from .state import Account, Contact
from .wire import ApiAnswer, answer, body, paging

EXISTS = "Phone number is already exist in contact book"
BAD_PHONE = "Invalid phone number format"
BAD_ID = "Invalid contact id"
NOT_VERIFIED = "In TEST mode a contact can be created only for a verified phone number"
SEARCH_FIELDS = ("id", "phone", "group_id", "date")


def _phone(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 10**8 <= value < 10**15:
        raise ApiAnswer(422, BAD_PHONE)
    return value


def _groups(account: Account, value: Any) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiAnswer(422, "The groups must be an array.")
    ids: list[Any] = [item.get("id") if isinstance(item, dict) else item for item in value]
    for group_id in ids:
        if group_id not in account.groups:
            raise ApiAnswer(422, "Contact group is not found")
    return list(dict.fromkeys(ids))


def _values(account: Account, value: Any) -> dict[int, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ApiAnswer(422, "The fields must be an array.")
    values: dict[int, str] = {}
    for item in value:
        field_id = item.get("id") if isinstance(item, dict) else None
        custom = account.fields.get(field_id) if isinstance(field_id, int) else None
        if custom is None:
            raise ApiAnswer(422, "Contact field is not found")
        text = item.get("value")
        if not isinstance(text, str) or not _fits(custom.type, text):
            raise ApiAnswer(422, f"Invalid value for the field {custom.name}")
        values[custom.id] = text
    return values


def _fits(kind: str, text: str) -> bool:
    try:
        if kind == "number":
            float(text)
        elif kind == "date":
            dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _find(account: Account, contact_id: int) -> Contact:
    found = account.contacts.get(contact_id)
    if found is None:
        raise ApiAnswer(422, BAD_ID)
    return found


def create(account: Account, request: Request, _: dict[str, Any]) -> Response:
    data = body(request)
    phone = _phone(data.get("phone"))
    groups = _groups(account, data.get("groups"))
    values = _values(account, data.get("fields"))
    if phone in account.by_phone:
        raise ApiAnswer(422, EXISTS)
    if _mode(account, request) == "test" and phone not in account.verified:
        raise ApiAnswer(422, NOT_VERIFIED)
    created = account.add_contact(phone, groups, values)
    return answer(201, {"data": contact(account, created, fresh=True)})


def _mode(account: Account, request: Request) -> str:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    known = account.tokens.get(token)
    return known.mode if known else "live"


def one(account: Account, request: Request, args: dict[str, Any]) -> Response:
    found = _find(account, args["contact_id"])
    return answer(200, {"data": contact(account, found)})


def update(account: Account, request: Request, args: dict[str, Any]) -> Response:
    found = _find(account, args["contact_id"])
    data = body(request)
    phone = _phone(data.get("phone", found.phone))
    if phone != found.phone and phone in account.by_phone:
        raise ApiAnswer(422, EXISTS)
    groups = _groups(account, data.get("groups", found.groups))
    values = _values(account, data.get("fields")) if "fields" in data else found.fields
    account.by_phone.pop(found.phone, None)
    found.phone, found.groups, found.fields = phone, groups, values
    account.by_phone[phone] = found.id
    return answer(200, {"data": contact(account, found)})


def delete(account: Account, request: Request, args: dict[str, Any]) -> Response:
    account.remove_contact(_find(account, args["contact_id"]).id)
    return answer(204)


def delete_many(account: Account, request: Request, _: dict[str, Any]) -> Response:
    ids = _ints(request.args.getlist("contact_ids[]"))
    groups = set(_ints(request.args.getlist("group_ids[]")))
    if not ids and not groups:
        raise ApiAnswer(422, "Give contact_ids[] or group_ids[].")
    doomed = {i for i in ids if i in account.contacts}
    doomed |= {c.id for c in account.contacts.values() if groups & set(c.groups)}
    for contact_id in doomed:
        account.remove_contact(contact_id)
    return answer(204)


def _ints(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        raise ApiAnswer(422, BAD_ID) from None


def listing(account: Account, request: Request, _: dict[str, Any]) -> Response:
    offset, limit = paging(request)
    wanted = set(_ints(request.args.getlist("groups[]")))
    items = [c for c in sorted(account.contacts.values(), key=lambda c: c.id)
             if not wanted or any(g in wanted for g in c.groups)]  # fmt: skip
    chosen = items[offset : offset + limit]
    return answer(200, {"data": [contact(account, c) for c in chosen], "total": len(items)})


def search(account: Account, request: Request, _: dict[str, Any]) -> Response:
    offset, limit = paging(request)
    field, operator, value = criteria(request, SEARCH_FIELDS)
    found = _candidates(account, field, operator, value)
    way = request.args.get("way", "asc")
    key = request.args.get("sort", "id")
    found.sort(key=lambda c: c.phone if key == "phone" else c.id, reverse=way == "desc")
    meta = {"page": page(found, offset, limit),
            "search": {"field": field, "operator": operator, "value": value}}  # fmt: skip
    chosen = found[offset : offset + limit]
    return answer(200, {"data": [contact(account, c) for c in chosen], "meta": meta})


def _candidates(account: Account, field: str, operator: str, value: str) -> list[Contact]:
    """The contacts that match; an exact phone is looked up in the index, not scanned."""
    if field == "phone" and operator == "=" and value.isdigit():
        contact_id = account.by_phone.get(int(value))
        return [account.contacts[contact_id]] if contact_id is not None else []
    return [c for c in account.contacts.values() if _matches(c, field, operator, value)]


def _matches(item: Contact, field: str, operator: str, value: str) -> bool:
    if field == "group_id":
        return any(matches(g, operator, value) for g in item.groups)
    if field == "date":
        return matches(item.created_at[:10], operator, value)
    if field.isdigit():
        return matches(item.fields.get(int(field)), operator, value)
    return matches(getattr(item, field), operator, value)


HANDLERS: dict[str, Callable[[Account, Request, dict[str, Any]], Response]] = {
    "contacts": listing,
    "create_contact": create,
    "search_contacts": search,
    "contact": one,
    "update_contact": update,
    "delete_contact": delete,
    "delete_contacts": delete_many,
}
