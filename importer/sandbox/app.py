"""The sandbox as a WSGI app: the routes of bsg-one-api.md, faults applied in one place.

The handlers live by what they serve: account (login, fields), groups, contacts; the
sandbox's own /_sandbox/ routes in control."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import account, contacts, groups
from .control import CONTROL
from .faults import Decision, DropConnection, FaultPlan, Faults
from .limits import ADMITTED, Admission
from .render import LIMIT_PAGE, PROXY_PAGE
from .state import Account
from .wire import ApiAnswer, answer, refusal

Handler = Callable[[Account, Request, dict[str, Any]], Response]
#: BSG's one documented 429: about one request, not the rate.
DUPLICATE_REQUESTS = "Too many duplicate request detected"


class SandboxApp:
    """A WSGI app over one Account; faults can be changed while it serves."""

    def __init__(self, account: Account, faults: Faults) -> None:
        self.account = account
        self.plan = FaultPlan(faults)
        account.token_ttl = faults.token_ttl
        self.on_outage: Callable[[float], None] | None = None
        self.routes = Map([Rule(path, endpoint=name, methods=[m]) for path, m, name in _ROUTES])

    @property
    def faults(self) -> Faults:
        return self.plan.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.plan = FaultPlan(faults)
        self.account.token_ttl = faults.token_ttl

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        try:
            endpoint, args = self.routes.bind_to_environ(request.environ).match()
        except HTTPException as missing:
            return refusal(missing.code or 404, missing.description or "Not found")
        if str(endpoint).startswith("control_"):
            return CONTROL[str(endpoint)](self, request)
        return self._api(str(endpoint), request, dict(args))

    def _api(self, endpoint: str, request: Request, args: dict[str, Any]) -> Response:
        login = endpoint == "login"
        faulty = self.faults.names(request.method, request.path, default=not login)
        plan = self.plan
        gate = plan.enter() if faulty else ADMITTED
        try:
            if self.faults.latency:
                time.sleep(plan.latency())
            if gate.refused:
                return self._logged(request, self._too_many(gate), committed=False)
            decision = plan.decide(_signature(request)) if faulty else Decision()
            return self._decided(endpoint, request, args, decision)
        finally:
            if faulty:
                plan.leave()

    def _decided(
        self, endpoint: str, request: Request, args: dict[str, Any], decision: Decision
    ) -> Response:
        early = self._before(decision)
        if early is not None:
            return self._logged(request, early, committed=False)
        try:
            with self.account.lock:
                if endpoint != "login":
                    self._authorise(request)
                response = API[endpoint](self.account, request, args)
        except ApiAnswer as refused:
            response = refusal(refused.status, refused.message)
        response.headers.update(decision.admission.headers)
        self._logged(request, response, committed=response.status_code < 300)
        return self._after(decision, response)

    def _before(self, decision: Decision) -> Response | None:
        fault = decision.before
        if fault is None:
            return None
        if fault == "drop":
            raise DropConnection(committed=False)
        if fault == "forbidden":
            return refusal(403, "This action is unauthorized.")
        if fault == "limit":
            return self._too_many(decision.admission)
        if fault in ("throttle", "duplicate"):
            headers = {"Retry-After": self.faults.retry_after}
            return answer(429, {"message": DUPLICATE_REQUESTS}, headers)
        status = self.plan.choice(["500", "502", "503"])
        if status == "502":
            return Response(PROXY_PAGE, status=502, mimetype="text/html")
        return answer(int(status), {"message": "Server Error"})

    def _after(self, decision: Decision, response: Response) -> Response:
        fault = decision.after
        if fault is None or response.status_code >= 300:
            return response
        if fault == "drop":
            raise DropConnection(committed=True)
        if fault == "commit-then-fail":
            return answer(500, {"message": "Server Error"})
        kind = self.plan.choice(["html", "truncated", "no-id"])
        if kind == "html":
            return Response(PROXY_PAGE, status=502, mimetype="text/html")
        if kind == "truncated":
            body = response.get_data()
            return Response(body[: max(1, len(body) // 2)], status=response.status_code,
                            mimetype="application/json")  # fmt: skip
        return answer(response.status_code, {"data": {}})

    def _authorise(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        known = self.account.tokens.get(token)
        if not header.startswith("Bearer ") or known is None:
            raise ApiAnswer(401, "Unauthenticated.")
        expired = time.time() >= known.expires
        every = self.faults.token_expiry_every
        if expired or (every and known.uses >= every):
            self.account.tokens.pop(token, None)
            raise ApiAnswer(401, "Unauthenticated.")
        known.uses += 1

    def _logged(self, request: Request, response: Response, *, committed: bool) -> Response:
        phone = None
        if request.method == "POST" and request.path == "/api/contacts":
            phone = _json(request).get("phone")
        with self.account.lock:
            self.account.log.append(
                {"t": time.time(), "method": request.method, "path": request.path,
                 "status": response.status_code, "phone": phone, "committed": committed}
            )  # fmt: skip
        return response

    def _too_many(self, refusal: Admission) -> Response:
        """A limiter's refusal, in the shape the faults say."""
        faults = self.faults
        headers = _limit_headers(refusal.headers, faults.limit_headers)
        wait = _retry_after(refusal, faults.limit_retry_after)
        if wait is not None:
            headers["Retry-After"] = wait
        shape = faults.limit_refusal
        if shape == "503":
            return Response(LIMIT_PAGE, status=503, mimetype="text/html")
        if shape == "empty":
            return Response(b"", status=429, headers=headers)
        message = {"bsg": DUPLICATE_REQUESTS, "framework": "Too Many Attempts."}
        return answer(429, {"message": message.get(shape, refusal.message)}, headers)


def _retry_after(refusal: Admission, style: str) -> str | None:
    if style == "none":
        return None
    if style == "exact":
        return f"{refusal.exact_wait:.3f}"
    if style == "date":
        return email.utils.formatdate(time.time() + refusal.exact_wait, usegmt=True)
    return str(refusal.retry_after)


def _limit_headers(headers: dict[str, str], style: str) -> dict[str, str]:
    if style == "none":
        return {}
    if style == "early" and "X-RateLimit-Reset" in headers:
        early = int(headers["X-RateLimit-Reset"]) - 1
        return {**headers, "X-RateLimit-Reset": str(early)}
    return dict(headers)


def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _signature(request: Request) -> tuple[Any, ...]:
    return (request.method, request.full_path, request.get_data(),
            request.headers.get("Authorization"))  # fmt: skip


_ROUTES = [
    ("/api/auth/login", "POST", "login"),
    ("/api/auth/refresh", "POST", "refresh"),
    ("/api/groups", "GET", "groups"),
    ("/api/groups", "POST", "create_group"),
    ("/api/groups/search", "GET", "search_groups"),
    ("/api/groups/attach", "POST", "attach"),
    ("/api/groups/detach", "POST", "detach"),
    ("/api/groups/<int:group_id>", "GET", "group"),
    ("/api/groups/<int:group_id>", "PUT", "update_group"),
    ("/api/groups/<int:group_id>", "DELETE", "delete_group"),
    ("/api/contacts/fields", "GET", "fields"),
    ("/api/contacts/fields", "POST", "create_field"),
    ("/api/contacts/delete", "POST", "delete_contacts"),
    ("/api/contacts/search", "GET", "search_contacts"),
    ("/api/contacts", "GET", "contacts"),
    ("/api/contacts", "POST", "create_contact"),
    ("/api/contacts/<int:contact_id>", "GET", "contact"),
    ("/api/contacts/<int:contact_id>", "PUT", "update_contact"),
    ("/api/contacts/<int:contact_id>", "DELETE", "delete_contact"),
    ("/_sandbox/state", "GET", "control_state"),
    ("/_sandbox/faults", "POST", "control_faults"),
    ("/_sandbox/reset", "POST", "control_reset"),
    ("/_sandbox/hlr", "POST", "control_hlr"),
    ("/_sandbox/verify", "POST", "control_verify"),
    ("/_sandbox/outage", "POST", "control_outage"),
]

API: dict[str, Handler] = {
    **account.HANDLERS,
    **groups.HANDLERS,
    **contacts.HANDLERS,
}
