"""The bearer token, and when to renew it: a little before its JWT ``exp`` claim says it ends."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field

#: Renew a bearer this long before its ``exp`` (or a fifth of its lifetime when shorter).
RENEW_BEFORE_S = 60.0


@dataclass(frozen=True, eq=False)
class Bearer:
    """A bearer token (never in a repr); ``renew_at`` is None when it does not say its end."""

    value: str = field(repr=False)
    renew_at: float | None = None

    @classmethod
    def of(cls, value: str) -> Bearer:
        return cls(value, _renew_at(_expires(value)))

    def due(self) -> bool:
        """True once it should be renewed."""
        return self.renew_at is not None and time.time() >= self.renew_at


def _expires(bearer: str) -> float | None:
    """The ``exp`` claim of a JWT (read, not verified: only BSG can verify it)."""
    try:
        payload = bearer.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _renew_at(expires: float | None) -> float | None:
    """A fifth of the lifetime (at most a minute) before the end; None when already past."""
    if expires is None:
        return None
    lifetime = expires - time.time()
    return expires - min(RENEW_BEFORE_S, lifetime / 5) if lifetime > 0 else None
