"""One answer read off a socket: by a deadline, within a size, a stop seen within ``POLL_S``.

An answer on its way when the run stops is awaited ``STOP_GRACE_S`` more (never past its
deadline): its row is then recorded as BSG answered, not left "may have been created".

The answer is fed to httptools (Node's llhttp parser) as it arrives, from one buffer read
into again and again; an answer that says or shows it is larger than ``MAX_ANSWER_BYTES``
is refused there (``Oversized``). Every thread's answers together hold at most
``MAX_HELD_BYTES`` past their first buffer, and a failed answer lets go of its body at
once (its failure outlives it, in the retry's hands): many threads told an endless answer
at once (a broken proxy; 300 rows) took 3.7 GB of memory, and take ~0.5 GB now, most of it
the allocator's per-thread arenas; a 50 MB answer that says its length takes nothing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httptools

from .errors import Oversized, Stopped

#: No answer of the API is near this big (a page of 500 contacts is ~0.5 MB).
MAX_ANSWER_BYTES = 16 << 20
#: The answers being read by every thread at once, past each one's first READ_BYTES.
MAX_HELD_BYTES = 32 << 20
#: While waiting for an answer, a stopping run is noticed this often.
POLL_S = 0.25
#: After a stop, an answer already asked for is awaited this much longer.
STOP_GRACE_S = 2.0
#: An answer is read into one buffer of this size, again and again.
READ_BYTES = 16384


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a whole answer must have come: the call's timeout, or the moment the run gives
    up waiting (``give_up_at``, read afresh each time) when that comes first."""

    timeout_at: float
    give_up_at: Callable[[], float] | None

    def left(self) -> float:
        """Seconds left; TimeoutError when none are."""
        end = self.timeout_at
        if self.give_up_at is not None:
            end = min(end, self.give_up_at())
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("no whole answer in time")
        return left


@dataclass(slots=True)
class _Stop:
    """The run's stop as one answer's reading sees it: Stopped ``STOP_GRACE_S`` after it."""

    event: threading.Event
    by: float | None = None

    def check(self) -> None:
        if not self.event.is_set():
            return
        now = time.monotonic()
        self.by = self.by or now + STOP_GRACE_S
        if now >= self.by:
            raise Stopped(maybe_sent=True)


def _received(sock: socket.socket, into: memoryview, deadline: Deadline, stop: _Stop) -> int:
    """Read the next bytes of an answer ``into`` a buffer (how many: 0 at the end), waiting in
    short steps so that a stop is seen soon."""
    while True:
        stop.check()
        sock.settimeout(min(POLL_S, deadline.left()))
        try:
            return sock.recv_into(into)
        except TimeoutError:
            continue


class _Held:
    """The bytes of answers being read, by every thread together, against a limit."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self, count: int) -> None:
        """Hold ``count`` more bytes; Oversized when the limit would be passed."""
        with self._lock:
            if count > self._left:
                raise Oversized(
                    f"BSG's answers were larger than {MAX_HELD_BYTES >> 20} MB together"
                )
            self._left -= count

    def give(self, count: int) -> None:
        with self._lock:
            self._left += count


HELD = _Held(MAX_HELD_BYTES)


class Answer:
    """One answer, fed to httptools as it arrives (its callbacks fill this in)."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.headed = self.complete = False
        self.status = 0
        self.length: int | None = None  # declared(), from the first header that says it
        self.keep_alive = False
        self.parser: Any = None  # httptools.HttpResponseParser, which calls back on_*

    @classmethod
    def read(cls, sock: socket.socket, deadline: Deadline, stop: threading.Event) -> Answer:
        """Read one whole answer by ``deadline``: TimeoutError past it, an OSError when the
        connection ends before it does, Oversized as soon as it says or shows that it is
        larger than MAX_ANSWER_BYTES, Stopped when the run stopped ``STOP_GRACE_S`` ago."""
        answer = cls()
        answer.parser = httptools.HttpResponseParser(answer)
        buffer = memoryview(bytearray(READ_BYTES))
        size = held = 0
        stopping = _Stop(stop)
        try:
            while not answer.complete:
                count = _received(sock, buffer, deadline, stopping)
                size += count
                if not count and answer.ends_with_connection():
                    break
                if not count:
                    raise ConnectionError("the connection closed before the whole answer came")
                if size > READ_BYTES:
                    more = min(count, size - READ_BYTES)
                    HELD.take(more)
                    held += more
                answer.parser.feed_data(buffer[:count])
                if size > MAX_ANSWER_BYTES or (answer.length or 0) > MAX_ANSWER_BYTES:
                    raise Oversized(f"BSG's answer was larger than {MAX_ANSWER_BYTES >> 20} MB")
        except BaseException:
            answer.chunks.clear()  # the failure's traceback outlives it, in the retry's hands
            raise
        finally:
            if held:
                HELD.give(held)
        return answer

    def declared(self) -> int:
        """The body's length as its headers say it (0 when they don't, or not yet)."""
        for name, value in self.fields:
            if name.lower() == "content-length" and value.strip().isdigit():
                return int(value)
        return 0

    def ends_with_connection(self) -> bool:
        """An answer with neither a length nor chunks: its body runs to the connection's end."""
        names = {name.lower() for name, _ in self.fields}
        return self.headed and not names & {"content-length", "transfer-encoding"}

    @property
    def content(self) -> bytes:
        return b"".join(self.chunks)

    def on_headers_complete(self) -> None:
        self.headed = True
        self.status = self.parser.get_status_code()

    def on_header(self, name: bytes, value: bytes) -> None:
        field = (name.decode("latin-1"), value.decode("latin-1"))
        self.fields.append(field)
        if self.length is None and field[0].lower() == "content-length":
            self.length = self.declared() or None  # as declared() reads them, once

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # only known until the next one
