"""The HLR check of a contact: it runs after the contact exists, and its result comes later.

At creation a contact's ``hlr_status`` is ``null`` (or ``sent``: the check is on its way);
``delay`` seconds later it holds a final status, drawn from the phone (the same phone
always gets the same one) in shares like a real list's, and ``hlr_last_check`` says when
the check finished. The checks of a share ``never`` of the phones never finish.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Protocol

#: Final statuses and their shares: most numbers of a marketing list are reachable.
SHARES = (("active", 0.80), ("absent", 0.10), ("unknown", 0.06), ("failed", 0.04))
AtCreation = Literal["null", "sent"]


class Checked(Protocol):
    """A sandbox contact, as far as its HLR check goes."""

    phone: int
    hlr_due: float | None
    hlr_status: str | None
    hlr_last_check: str | None


@dataclass
class HlrModel:
    """How the sandbox's HLR checks behave; switchable while it serves."""

    at_creation: AtCreation = "null"
    delay: float = 5.0
    never: float = 0.0

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HlrModel:
        """The model from JSON; unknown names and values are refused."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown HLR settings: {', '.join(sorted(unknown))}")
        model = cls(**values)
        if model.at_creation not in ("null", "sent") or model.delay < 0:
            raise ValueError("at_creation is 'null' or 'sent'; delay is 0 or more")
        return model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def start(self, contact: Checked, now: float) -> None:
        """The check of a contact created at ``now``: its first status, and when it ends."""
        contact.hlr_status = "sent" if self.at_creation == "sent" else None
        contact.hlr_due = None if stuck(contact.phone, self.never) else now + self.delay


def seen(contact: Checked, now: float) -> tuple[str | None, str | None]:
    """(hlr_status, hlr_last_check) as BSG answers them at ``now``: the final status once the
    check has finished. Reading changes nothing; a status set by hand (with its time) stays."""
    due = contact.hlr_due
    if contact.hlr_last_check is not None or due is None or now < due:
        return contact.hlr_status, contact.hlr_last_check
    checked = dt.datetime.fromtimestamp(due, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return final_status(contact.phone), checked


def _fractions(phone: int) -> tuple[float, float]:
    """Two numbers in [0, 1) fixed by the phone: one for its status, one for ``never``."""
    digest = hashlib.sha256(f"hlr:{phone}".encode()).digest()
    scale = float(1 << 64)
    return int.from_bytes(digest[:8]) / scale, int.from_bytes(digest[8:16]) / scale


def final_status(phone: int) -> str:
    """The status the check of this phone ends in."""
    roll = _fractions(phone)[0]
    for status, share in SHARES:
        if roll < share:
            return status
        roll -= share
    return SHARES[0][0]


def stuck(phone: int, never: float) -> bool:
    """True when the check of this phone never finishes (a share ``never`` of phones)."""
    return _fractions(phone)[1] < never
