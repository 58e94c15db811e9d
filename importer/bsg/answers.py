"""What BSG's answers say: the status read as success or a failure to retry or not, the
JSON body parsed, and the objects in it checked and typed.

An answer that is not what the API promises (no JSON, no ``data``, an id that is not a
positive integer) is a ``Transient`` whose outcome is unknown: the retry policy asks
again, and a create resolves "already exists" to the object found.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any
from urllib.parse import urlsplit

from ..models import Contact, ContactList, CustomField
from . import DEFAULT_BASE_URL
from .bearer import Bearer
from .errors import Redirected, Rejected, Throttled, Transient
from .evidence import REFUSALS, Answer
from .wire import Reply


def for_pacer(answer: Reply, rtt: float) -> Answer:
    """What the controller hears of an answer; a refusal's wait and message are read."""
    status = answer.status_code
    if status not in REFUSALS:
        return Answer.from_http(status, rtt, answer.headers)
    return Answer.from_http(
        status,
        rtt,
        answer.headers,
        retry_after=_retry_after(answer),
        message=_message(answer) or "",
    )


def _retry_after(answer: Reply) -> float | None:
    value = answer.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def checked(answer: Reply) -> Reply:
    status = answer.status_code
    if status < 300:
        return answer
    if status < 400:
        raise Redirected(f"answered with {_redirect(answer)}, so it is not BSG's API: check "
                         f"--base-url (BSG's is {DEFAULT_BASE_URL})")  # fmt: skip
    if status == 429:
        raise Throttled("BSG asked to slow down (429)", retry_after=_retry_after(answer))
    if status >= 500:
        raise Transient(f"BSG answered {status}", outcome_unknown=True)
    message = _message(answer) or f"BSG answered {status}"
    raise Rejected(message, status)


def _redirect(answer: Reply) -> str:
    """A redirect in words: where to by host alone (a query could hold anything)."""
    status = answer.status_code
    location = answer.headers.get("Location") or ""
    try:
        host = urlsplit(location).hostname
    except ValueError:
        host = None
    if host:
        return f"a redirect to {host} ({status})"
    if location:
        return f"a redirect to another page of the same server ({status})"
    return f"a redirect ({status}) that names no address"


def _message(answer: Reply) -> str | None:
    try:
        body = answer.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return str(message) if message else None


def parsed(answer: Reply) -> Any:
    if not answer.content.strip():
        return None
    try:
        return answer.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = answer.headers.get("Content-Type") or "unknown content"
        raise Transient(f"BSG's answer was not valid JSON ({kind})", outcome_unknown=True) from exc


def bearer(answer: Reply) -> Bearer:
    """The bearer of a login or refresh answer."""
    value = _json_object(answer).get("bearer")
    if not isinstance(value, str) or not value:
        raise Transient("BSG's login answer holds no bearer token", outcome_unknown=True)
    return Bearer.of(value)


def _json_object(answer: Reply) -> dict[str, Any]:
    body = parsed(answer)
    if not isinstance(body, dict):
        raise Transient("BSG's answer was not a JSON object", outcome_unknown=True)
    return body


def data(body: Any) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise Transient("BSG's answer has no 'data'", outcome_unknown=True)
    return body["data"]


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Transient(f"BSG's answer has no valid {what}", outcome_unknown=True)
    try:
        number = int(value)
    except ValueError:
        raise Transient(f"BSG's answer has no valid {what}", outcome_unknown=True) from None
    if number <= 0:
        raise Transient(f"BSG's answer has no valid {what}", outcome_unknown=True)
    return number


def contact_list(item: Any) -> ContactList:
    if not isinstance(item, dict):
        raise Transient("BSG's answer holds no list", outcome_unknown=True)
    return ContactList(id=_int(item.get("id"), "list id"), name=str(item.get("name", "")))


def custom_field(item: Any) -> CustomField:
    if not isinstance(item, dict):
        raise Transient("BSG's answer holds no custom field", outcome_unknown=True)
    return CustomField(
        id=_int(item.get("id"), "field id"),
        name=str(item.get("name", "")),
        type=str(item.get("type", "text")),
    )


def contact(item: Any) -> Contact:
    if not isinstance(item, dict):
        raise Transient("BSG's answer holds no contact", outcome_unknown=True)
    groups = item.get("groups") or []
    return Contact(
        id=_int(item.get("id"), "contact id"),
        phone=_int(item.get("phone"), "phone"),
        groups=tuple(_int(g.get("id") if isinstance(g, dict) else g, "list id") for g in groups),
        fields=_field_values(item.get("fields")),
        hlr_status=_optional_text(item.get("hlr_status")),
        hlr_last_check=_optional_text(item.get("hlr_last_check")),
    )


def _field_values(raw: Any) -> dict[int, str]:
    """Every shape BSG uses: {"388077": "v"}, [{"id": 388077, "value": "v"}], [{"388077": "v"}]."""
    items = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    pairs: list[tuple[Any, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "id" in item and "value" in item:
            pairs.append((item["id"], item["value"]))
        else:
            pairs.extend(item.items())
    values: dict[int, str] = {}
    for key, value in pairs:
        try:
            values[int(key)] = "" if value is None else str(value)
        except (TypeError, ValueError):
            continue
    return values


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
