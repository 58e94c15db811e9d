"""BSG's JSON shapes, as the official SDK (bsg-sdk) reads them."""

from __future__ import annotations

import time
from typing import Any

from .hlr import seen
from .state import Account, Contact, CustomField, Group


def group(account: Account, item: Group) -> dict[str, Any]:
    """A list as the list calls answer it: ``default`` is a JSON boolean."""
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "default": item.default,
        "created_at": item.created_at,
        "items": account.items_in(item.id),
        "stop_list_count": 0,
    }


def group_found(account: Account, item: Group) -> dict[str, Any]:
    """A list as the search answers it (``is_default``, no stop list count)."""
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "is_default": item.default,
        "items": account.items_in(item.id),
        "created_at": item.created_at,
    }


def custom_field(item: CustomField) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "type": item.type,
        "description": item.description,
        "is_visible": item.is_visible,
    }


def contact(account: Account, item: Contact, *, fresh: bool = False) -> dict[str, Any]:
    """A contact. Field values come in two shapes, both lists of string-valued objects.

    A contact just created (``fresh``) has no HLR result yet; a later answer has it once
    the check has finished.
    """
    hlr_status, hlr_last_check = (
        (item.hlr_status, item.hlr_last_check) if fresh else seen(item, time.time())
    )
    if item.id % 2:
        values: list[dict[str, str]] = [{str(k): v} for k, v in item.fields.items()]
    else:
        values = [{"id": str(k), "value": v} for k, v in item.fields.items()]
    groups = [account.groups[g] for g in item.groups if g in account.groups]
    return {
        "id": item.id,
        "phone": item.phone,
        "fields": values,
        "created_at": item.created_at,
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "description": g.description,
                "default": g.default,
                "created_at": g.created_at,
            }
            for g in groups
        ],
        "hlr_status": hlr_status,
        "hlr_last_check": hlr_last_check,
    }


def page(items: list[Any], offset: int, limit: int) -> dict[str, Any]:
    return {"total": len(items), "limit": limit, "offset": offset}


#: nginx's limit_req refusal by default: 503 and this page, no Retry-After.
LIMIT_PAGE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    "<h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center>"
    "</body></html>"
)
PROXY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)
