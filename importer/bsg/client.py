"""BsgClient: typed calls to the BSG One-API, one attempt each; the bearer kept fresh.

The wire raises what became of a request that got no answer (``NeverSent``,
``MaybeSent``); what an answer says is read in answers.py (5xx and a fresh bearer
refused are ``Transient``, 429 ``Throttled``, other 4xx ``Rejected``, a login that
refuses the key ``KeyRefused``). Retrying is the caller's choice (see retry.py). The key
and the bearer never appear in any message.
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

import httpx

from ..errors import UsageError
from ..models import Contact, ContactList, CustomField
from . import answers
from .bearer import Bearer
from .errors import KeyRefused, Transient
from .evidence import Answer, Slot
from .wire import HttpxWire, Reply, SocketWire, Wire

PAGE_LIMIT = 100
#: The largest page of contacts BSG serves (its OpenAPI description: 15 to 500).
LIST_PAGE_LIMIT = 500
#: Logins again within one call, each after a 401 on a fresh bearer.
RENEWALS = 3
USER_AGENT = "bsg-import/0.1"
HEADERS = {"Accept": "application/json", "User-Agent": USER_AGENT}


class Pacer(Protocol):
    """Decides when a request may start, and hears how the service answered.

    ``before_request`` waits for a place in flight and the request's turn;
    ``after_response`` hands the place back with the answer (None when none came).
    """

    def before_request(self) -> Slot: ...
    def after_response(self, slot: Slot, answer: Answer | None) -> None: ...


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
        self._shared = None if transport is None else HttpxWire(transport, self._root, timeout)
        # One TLS context for every connection: building one costs ~20 ms of CPU.
        self._tls = _tls_context()
        self._local = threading.local()
        self._wires: list[Wire] = []
        self._wires_lock = threading.Lock()
        self._key = api_key
        self._token: Bearer | None = None
        self._refused: Bearer | None = None  # a 401 came back for it: being renewed
        self._lock = threading.Lock()
        self._pacer = pacer
        self._stop = stop

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
        with self._wires_lock:
            wires, self._wires = self._wires, []
        for wire in wires:
            wire.close()

    def _wire(self) -> Wire:
        """This thread's own keep-alive connection (or the wire to the transport given).

        One pool shared by many threads serialises them on its lock (measured: 64
        threads on one httpx.Client spent 90% of their time waiting for it), so each
        sending thread keeps its own connection, and the pool is the set of them.
        """
        if self._shared is not None:
            return self._shared
        wire: Wire | None = getattr(self._local, "wire", None)
        if wire is None:
            wire = self._local.wire = SocketWire(self._root, self._tls, self._timeout, self._stop)
            with self._wires_lock:
                self._wires.append(wire)
        return wire

    def __enter__(self) -> BsgClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- authentication ----------------------------------------------------------------

    def login(self) -> None:
        """Exchange the key for a bearer; AuthError when BSG refuses the key."""
        with self._lock:
            self._login()

    def _login(self) -> None:
        answer = self._send("POST", "/api/auth/login", None, json={"api_key": self._key})
        if answer.status_code in (401, 403, 422):
            raise KeyRefused("BSG refused the API key; check BSG_API_KEY (or --api-key)")
        self._token = answers.bearer(answers.checked(answer))

    def _bearer(self) -> Bearer:
        """The bearer to send: logged in first, renewed before its ``exp`` when it has one,
        and the new one once a 401 came back for it (not sent again while it is renewed)."""
        token = self._token
        if token is None or token.due() or token is self._refused:
            with self._lock:
                token = self._token
                if token is None:
                    self._login()
                elif token.due():
                    self._refresh(token)
                token = self._token
        assert token is not None
        return token

    def _refresh(self, token: Bearer) -> None:
        """A new bearer for one about to expire; a login when BSG won't refresh it."""
        try:
            answer = self._send("POST", "/api/auth/refresh", token.value)
            if answer.status_code < 300:
                self._token = answers.bearer(answer)
                return
        except Transient:
            pass
        self._login()

    def _renew(self, refused: Bearer) -> None:
        """Log in again after a 401: once per bearer, however many threads saw it refused."""
        self._refused = refused
        with self._lock:
            if self._token is refused:
                self._login()

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
        token = self._bearer()
        answer = self._send(method, path, token.value, **kwargs)
        for _ in range(RENEWALS):  # under many threads a fresh bearer can be used up at once
            if answer.status_code != 401:
                break
            self._renew(token)
            token = self._bearer()
            answer = self._send(method, path, token.value, **kwargs)
        if answer.status_code == 401:
            raise Transient("BSG did not accept a fresh login (401)")
        return answers.parsed(answers.checked(answer))

    def _send(self, method: str, path: str, bearer: str | None, **kwargs: Any) -> Reply:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        if self._pacer is None:
            return self._exchange(method, path, headers, **kwargs)
        slot = self._pacer.before_request()
        try:
            answer = self._exchange(method, path, headers, **kwargs)
        except BaseException:
            self._pacer.after_response(slot, None)
            raise
        self._pacer.after_response(slot, answers.for_pacer(answer, time.monotonic() - slot.sent_at))
        return answer

    def _exchange(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        target = f"{path}?{urlencode(params, quote_via=quote)}" if params else path
        body = None
        if json is not None:
            body = _json_body(json)
            headers = {**headers, "Content-Type": "application/json"}
        return self._wire().exchange(method, target, {**HEADERS, **headers}, body)


def _json_body(value: Any) -> bytes:
    """JSON as httpx sends it: UTF-8, compact, no NaN."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


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


def _tls_context() -> ssl.SSLContext:
    """Certificates verified against certifi's roots, or SSL_CERT_FILE's (a company's own CA)
    or SSL_CERT_DIR's, as httpx reads them."""
    try:
        return httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        named = [
            f"{n}={os.environ[n]}" for n in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(n)
        ]
        where = named[0] if named else "certifi's CA bundle"
        raise UsageError(f"{where}: can't read certificates ({exc})") from exc
