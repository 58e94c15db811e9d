"""A trace of the controller (pace.py), for whoever tunes it (``--trace-pace PATH``): one
JSON line per refused answer and, between them, one every EVERY_S, appended to PATH. Each
says what the answer was and what the controller made of it; no row, phone or key is in
it. The file is opened for each line: nothing is left open, or unwritten, when a run ends.
A trace that can't be written stops, with a warning; the run goes on."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .evidence import Answer, Slot
from .pace import RatePacer

EVERY_S = 0.05
LOGGER = logging.getLogger("bsg_import")


class PaceTrace:
    """A RatePacer that writes what it does (see connections.Pacer)."""

    def __init__(self, pacer: RatePacer, path: Path) -> None:
        try:
            path.open("a", encoding="utf-8").close()
        except OSError as error:
            raise UsageError(f"can't write the pace trace to {path}: {error.strerror}") from None
        self._pacer, self._path = pacer, path
        self._stopped = False
        self._lock = threading.Lock()
        self._began = time.monotonic()
        self._written_at = -math.inf
        self._answers = 0

    def before_request(self) -> Slot:
        return self._pacer.before_request()

    def after_response(self, slot: Slot, answer: Answer | None) -> None:
        self._pacer.after_response(slot, answer)
        with self._lock:
            now = time.monotonic()
            self._answers += 1
            refused = answer is not None and answer.refused
            if not self._stopped and (refused or now - self._written_at >= EVERY_S):
                self._written_at = now
                self._write(json.dumps(self._line(now, slot, answer)))

    def _write(self, line: str) -> None:
        try:
            with self._path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as error:
            self._stopped = True
            LOGGER.warning("the pace trace stopped: can't write %s: %s", self._path, error)

    def _line(self, now: float, slot: Slot, answer: Answer | None) -> dict[str, Any]:
        pacer = self._pacer
        return {
            "t": round(now - self._began, 4),
            "status": None if answer is None else answer.status,
            "rtt_ms": None if answer is None else round(answer.rtt * 1000, 1),
            "level": slot.in_flight,  # in flight when it left, itself too
            "rate": round(pacer.rate, 1),
            "ceiling": None if pacer.ceiling is None else round(pacer.ceiling, 1),
            "background": round(pacer.background, 4),
            "window": round(pacer.window, 1),
            "edge": pacer.in_flight_limit,
            "in_flight": pacer.sent,
            "waiting_s": round(pacer.waiting_s, 2),
            "answers": self._answers,
            "refused": pacer.throttled,
        }
