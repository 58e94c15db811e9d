"""BsgClient: typed calls to the BSG One-API, one attempt each; the bearer kept fresh
(login.py), each call sent over its thread's own connection (connections.py).

The wire raises what became of a request that got no answer (``NeverSent``,
``MaybeSent``); what an answer says is read in answers.py (5xx and a fresh bearer
refused are ``Transient``, 429 ``Throttled``, other 4xx ``Rejected``, a login that
refuses the key ``KeyRefused``). Retrying is the caller's choice (see retry.py). The key
and the bearer never appear in any message.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import UsageError
from ..models import Contact, ContactList, CustomField
from . import answers
from .connections import HEADERS, USER_AGENT, Connections, Pacer
from .errors import Transient
from .login import Login

__all__ = ["HEADERS", "USER_AGENT", "BsgClient", "Pacer", "is_loopback", "require_safe_url"]

PAGE_LIMIT = 100
#: The largest page of contacts BSG serves (its OpenAPI description: 15 to 500).
LIST_PAGE_LIMIT = 500
#: Logins again within one call, each after a 401 on a fresh bearer.
RENEWALS = 3


class BsgClient:
    """One account on one BSG API root, safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        pacer: Pacer | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if transport is None:
            require_safe_url(base_url)
        self._root = base_url.rstrip("/")
        self._timeout = timeout
        self._connections = Connections(
            self._root, transport=transport, timeout=timeout, pacer=pacer, stop=stop
        )
        self._send = self._connections.send
        self._login = Login(api_key, self._send)

    @property
    def root(self) -> str:
        """The API root, as messages name it."""
        return self._root

    @property
    def timeout(self) -> float:
        """Seconds one call may take, answer and all."""
        return self._timeout

    def close(self) -> None:
        """Close every connection."""
        self._connections.close()

    def __enter__(self) -> BsgClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- authentication ----------------------------------------------------------------

    def login(self) -> None:
        """Exchange the key for a bearer; KeyRefused when BSG refuses the key."""
        self._login.login()

    # -- lists ---------------------------------------------------------------------------

    def find_list(self, name: str) -> ContactList | None:
        """The list whose name is exactly ``name``, if any."""
        query = {"search[field]": "name", "search[operator]": "=", "search[value]": name}
        for item in self._pages("/api/groups/search", query):
            if item.get("name") == name:
                return answers.contact_list(item)
        return None

    def lists(self) -> list[ContactList]:
        """Every list of the account."""
        return [answers.contact_list(item) for item in self._pages("/api/groups", {})]

    def create_list(self, name: str) -> ContactList:
        """Create a list; Rejected("Contact group is already exists") when taken."""
        return answers.contact_list(
            answers.data(self.request("POST", "/api/groups", json={"name": name}))
        )

    def attach(self, contact_ids: Iterable[int], list_id: int) -> None:
        """Add existing contacts to a list."""
        self.request(
            "POST", "/api/groups/attach", json={"contacts": list(contact_ids), "groups": [list_id]}
        )

    def detach(self, contact_ids: Iterable[int], list_id: int) -> None:
        """Remove contacts from a list; they stay in the contact book."""
        self.request(
            "POST", "/api/groups/detach", json={"contacts": list(contact_ids), "groups": [list_id]}
        )

    # -- custom fields -------------------------------------------------------------------

    def fields(self) -> list[CustomField]:
        """The account's custom contact fields."""
        items = answers.data(self.request("GET", "/api/contacts/fields"))
        if not isinstance(items, list):
            raise Transient("BSG's list of custom fields is not a list")
        return [answers.custom_field(item) for item in items]

    def create_field(self, name: str, kind: str) -> CustomField:
        """Create a custom field of type text, number or date."""
        body = {"name": name, "type": kind, "is_visible": True}
        return answers.custom_field(
            answers.data(self.request("POST", "/api/contacts/fields", json=body))
        )

    # -- contacts ------------------------------------------------------------------------

    def create_contact(
        self, phone: int, list_id: int | None, fields: Iterable[tuple[int, str]] = ()
    ) -> Contact:
        """Create one contact in a list."""
        body: dict[str, Any] = {"phone": phone}
        if list_id is not None:
            body["groups"] = [list_id]
        values = [{"id": fid, "value": value} for fid, value in fields]
        if values:
            body["fields"] = values
        return answers.contact(answers.data(self.request("POST", "/api/contacts", json=body)))

    def find_contact(self, phone: int) -> Contact | None:
        """The contact with this phone in the contact book, if any."""
        query = {"search[field]": "phone", "search[operator]": "=", "search[value]": str(phone)}
        for item in self._pages("/api/contacts/search", query):
            contact = answers.contact(item)
            if contact.phone == phone:
                return contact
        return None

    def get_contact(self, contact_id: int) -> Contact:
        """One contact, with a fresh HLR status."""
        return answers.contact(answers.data(self.request("GET", f"/api/contacts/{contact_id}")))

    def list_page(self, list_id: int, offset: int, limit: int) -> tuple[list[Contact], int]:
        """One page of a list's contacts, with fresh HLR statuses, and the list's total."""
        params = {"groups[]": str(list_id), "page[offset]": str(offset), "page[limit]": str(limit)}
        body = self.request("GET", "/api/contacts", params=params)
        items, total = answers.data(body), body.get("total")
        if not isinstance(items, list) or isinstance(total, bool) or not isinstance(total, int):
            raise Transient("BSG's page of contacts has no list or no total", outcome_unknown=True)
        return [answers.contact(item) for item in items], total

    def update_contact(
        self, contact: Contact, groups: Iterable[int], fields: dict[int, str]
    ) -> Contact:
        """Replace a contact's lists and field values."""
        body = {
            "phone": contact.phone,
            "groups": list(groups),
            "fields": [{"id": fid, "value": value} for fid, value in fields.items()],
        }
        return answers.contact(
            answers.data(self.request("PUT", f"/api/contacts/{contact.id}", json=body))
        )

    def delete_contact(self, contact_id: int) -> None:
        """Delete one contact from the contact book."""
        self.request("DELETE", f"/api/contacts/{contact_id}")

    # -- plumbing ------------------------------------------------------------------------

    def _pages(self, path: str, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            params = {**query, "page[offset]": str(offset), "page[limit]": str(PAGE_LIMIT)}
            items = answers.data(self.request("GET", path, params=params))
            if not isinstance(items, list):
                raise Transient(f"BSG's answer to {path} is not a list")
            yield from (item for item in items if isinstance(item, dict))
            if len(items) < PAGE_LIMIT:
                return
            offset += len(items)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call with the bearer; the parsed JSON answer (None when empty).

        A 401 means the bearer is no longer good (expired, used up), never that the key
        is refused (only the login can say that): log in again and repeat, up to RENEWALS
        times. Fresh bearers refused at once every time are a Transient, for the retry
        policy to wait out.
        """
        token = self._login.bearer()
        answer = self._send(method, path, token.value, **kwargs)
        for _ in range(RENEWALS):  # under many threads a fresh bearer can be used up at once
            if answer.status_code != 401:
                break
            self._login.renew(token)
            token = self._login.bearer()
            answer = self._send(method, path, token.value, **kwargs)
        if answer.status_code == 401:
            raise Transient("BSG did not accept a fresh login (401)")
        return answers.parsed(answers.checked(answer))


def require_safe_url(base_url: str) -> None:
    """HTTPS for everything but loopback: the key must never cross a network in clear."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url {base_url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"--base-url {base_url!r} is plain HTTP; use https:// (plain HTTP is allowed "
            "only for loopback addresses)"
        )


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
