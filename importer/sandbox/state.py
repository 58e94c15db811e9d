"""The sandbox account: lists, custom fields, contacts, keys and tokens, behind one lock."""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .hlr import HlrModel

DEFAULT_KEYS = {"live_sandbox": "live", "test_sandbox": "test"}
DEFAULT_FIELDS = (("First Name", "text"), ("City", "text"), ("Birthday", "date"))


def now_text() -> str:
    """BSG's date format, in UTC."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Group:
    id: int
    name: str
    description: str | None = None
    default: bool = False
    created_at: str = field(default_factory=now_text)


@dataclass
class CustomField:
    id: int
    name: str
    type: str
    description: str | None = None
    is_visible: bool = True


@dataclass
class Contact:
    id: int
    phone: int
    groups: list[int] = field(default_factory=list)
    fields: dict[int, str] = field(default_factory=dict)
    created_at: str = field(default_factory=now_text)
    hlr_status: str | None = None
    hlr_last_check: str | None = None
    #: When its HLR check ends (time.time()); None: never, or a status set by hand.
    hlr_due: float | None = None


@dataclass
class Token:
    mode: str
    expires: float  # time.time() when it ends, as its JWT's exp claim says
    uses: int = 0


@dataclass
class Account:
    """Everything the sandbox knows; callers hold ``lock`` while they read or change it."""

    keys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYS))
    verified: set[int] = field(default_factory=set)
    groups: dict[int, Group] = field(default_factory=dict)
    fields: dict[int, CustomField] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    by_phone: dict[int, int] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    hlr: HlrModel = field(default_factory=HlrModel)
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: A limit on custom field names that bsg-one-api.md does not give (0: none), for
    #: tests of a server that refuses what the tool can only learn from its 422.
    max_field_name: int = 0
    next_group: int = 56147
    next_field: int = 25964
    next_contact: int = 1000001
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    token_ttl: float = 3600.0

    def __post_init__(self) -> None:
        for name, kind in DEFAULT_FIELDS:
            self.add_field(name, kind)

    def add_group(self, name: str, description: str | None, default: bool) -> Group:
        group = Group(self.next_group, name, description or None, default)
        self.groups[group.id] = group
        self.next_group += 1
        return group

    def add_field(self, name: str, kind: str, description: str | None = None) -> CustomField:
        custom = CustomField(self.next_field, name, kind, description or None)
        self.fields[custom.id] = custom
        self.next_field += 1
        return custom

    def add_contact(self, phone: int, groups: list[int], values: dict[int, str]) -> Contact:
        contact = Contact(self.next_contact, phone, groups, values)
        self.hlr.start(contact, time.time())
        self.contacts[contact.id] = contact
        self.by_phone[phone] = contact.id
        self.next_contact += 1
        return contact

    def remove_contact(self, contact_id: int) -> None:
        contact = self.contacts.pop(contact_id)
        self.by_phone.pop(contact.phone, None)

    def issue_token(self, mode: str) -> str:
        """A signed JWT that lives ``token_ttl`` seconds (its ``exp`` claim says until when)."""
        now = time.time()
        expires = now + self.token_ttl
        claims = {"jti": secrets.token_hex(8), "mode": mode, "iat": int(now), "exp": int(expires)}
        header, payload = _b64({"alg": "HS256", "typ": "JWT"}), _b64(claims)
        signature = hmac.new(self.secret, f"{header}.{payload}".encode(), "sha256").digest()
        token = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
        self.tokens[token] = Token(mode, expires)
        return token

    def items_in(self, group_id: int) -> int:
        return sum(1 for c in self.contacts.values() if group_id in c.groups)

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON, for tests."""
        creates: dict[str, int] = {}
        for entry in self.log:
            if (
                entry["method"] == "POST"
                and entry["path"] == "/api/contacts"
                and entry.get("phone")
            ):
                key = str(entry["phone"])
                creates[key] = creates.get(key, 0) + 1
        return {
            "groups": [vars(g) for g in self.groups.values()],
            "fields": [vars(f) for f in self.fields.values()],
            "contacts": [
                {"id": c.id, "phone": c.phone, "groups": c.groups, "fields": c.fields}
                for c in self.contacts.values()
            ],
            "creates_per_phone": creates,
            "log": self.log,
            "hlr": self.hlr.to_dict(),
        }


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
