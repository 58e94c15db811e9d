"""Contact lists ("groups"): create, read, search, rename, delete, attach, detach."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from .render import group, group_found, page
from .search import criteria, matches
from .state import Account, Group
from .wire import ApiAnswer, answer, body, paging

EXISTS = "Contact group is already exists"
NOT_FOUND = "Contact group is not found"
MAX_CONTACTS = 200
MAX_GROUPS = 100
SEARCH_FIELDS = ("id", "name", "items", "created_at", "phone", "description")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiAnswer(422, "The name field is required.")
    return value


def _taken(account: Account, name: str, but: int | None = None) -> bool:
    return any(g.name == name and g.id != but for g in account.groups.values())


def _find(account: Account, group_id: int) -> Group:
    found = account.groups.get(group_id)
    if found is None:
        raise ApiAnswer(422, NOT_FOUND)
    return found


def create(account: Account, request: Request, _: dict[str, Any]) -> Response:
    data = body(request)
    name = _name(data.get("name"))
    if _taken(account, name):
        raise ApiAnswer(422, EXISTS)
    created = account.add_group(name, data.get("description"), bool(data.get("default", False)))
    return answer(201, {"data": group(account, created)})


def listing(account: Account, request: Request, _: dict[str, Any]) -> Response:
    offset, limit = paging(request)
    items = sorted(account.groups.values(), key=lambda g: g.id)
    chosen = items[offset : offset + limit]
    return answer(200, {"data": [group(account, g) for g in chosen], "total": len(items)})


def search(account: Account, request: Request, _: dict[str, Any]) -> Response:
    offset, limit = paging(request)
    field, operator, value = criteria(request, SEARCH_FIELDS)
    found = [g for g in sorted(account.groups.values(), key=lambda g: g.id)
             if _matches(account, g, field, operator, value)]  # fmt: skip
    meta = {"page": page(found, offset, limit),
            "search": {"field": field, "operator": operator, "value": value}}  # fmt: skip
    chosen = found[offset : offset + limit]
    return answer(200, {"data": [group_found(account, g) for g in chosen], "meta": meta})


def _matches(account: Account, item: Group, field: str, operator: str, value: str) -> bool:
    if field == "phone":
        return any(
            item.id in c.groups and matches(c.phone, operator, value)
            for c in account.contacts.values()
        )
    if field == "items":
        return matches(account.items_in(item.id), operator, value)
    return matches(getattr(item, field), operator, value)


def one(account: Account, request: Request, args: dict[str, Any]) -> Response:
    return answer(200, {"data": group(account, _find(account, args["group_id"]))})


def update(account: Account, request: Request, args: dict[str, Any]) -> Response:
    found = _find(account, args["group_id"])
    data = body(request)
    if "name" in data:
        name = _name(data["name"])
        if _taken(account, name, but=found.id):
            raise ApiAnswer(422, EXISTS)
        found.name = name
    if "description" in data:
        found.description = data["description"] or None
    if "default" in data:
        found.default = bool(data["default"])
    return answer(200, {"data": group(account, found)})


def delete(account: Account, request: Request, args: dict[str, Any]) -> Response:
    found = _find(account, args["group_id"])
    del account.groups[found.id]
    for contact in account.contacts.values():
        if found.id in contact.groups:
            contact.groups.remove(found.id)
    return answer(204)


def _membership(account: Account, request: Request) -> tuple[list[int], list[int]]:
    data = body(request)
    contacts, groups = data.get("contacts"), data.get("groups")
    if not isinstance(contacts, list) or not isinstance(groups, list) or not contacts or not groups:
        raise ApiAnswer(422, "The contacts and groups fields are required.")
    if len(contacts) > MAX_CONTACTS or len(groups) > MAX_GROUPS:
        raise ApiAnswer(422, f"At most {MAX_CONTACTS} contacts and {MAX_GROUPS} groups at once.")
    for group_id in groups:
        _find(account, group_id)
    for contact_id in contacts:
        if contact_id not in account.contacts:
            raise ApiAnswer(422, "Invalid contact id")
    return contacts, groups


def attach(account: Account, request: Request, _: dict[str, Any]) -> Response:
    contacts, groups = _membership(account, request)
    for contact_id in contacts:
        member = account.contacts[contact_id]
        member.groups += [g for g in groups if g not in member.groups]
    return answer(200, {"message": "success"})


def detach(account: Account, request: Request, _: dict[str, Any]) -> Response:
    contacts, groups = _membership(account, request)
    for contact_id in contacts:
        member = account.contacts[contact_id]
        member.groups = [g for g in member.groups if g not in groups]
    return answer(200, {"message": "success"})


HANDLERS: dict[str, Callable[[Account, Request, dict[str, Any]], Response]] = {
    "groups": listing,
    "create_group": create,
    "search_groups": search,
    "group": one,
    "update_group": update,
    "delete_group": delete,
    "attach": attach,
    "detach": detach,
}
