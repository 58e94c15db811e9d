"""One answer read off a socket: by a deadline, within a size, a stop seen within ``POLL_S``.

The answer is fed to httptools (Node's llhttp parser) as it arrives, from one buffer read
into again and again, so that memory stays flat whatever the server sends; an answer that
says or shows it is larger than ``MAX_ANSWER_BYTES`` is refused there (``Oversized``).
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
#: While waiting for an answer, a stopping run is noticed this often.
POLL_S = 0.25
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


def _received(
    sock: socket.socket, into: memoryview, deadline: Deadline, stop: threading.Event
) -> int:
    """Read the next bytes of an answer ``into`` a buffer (how many: 0 at the end), waiting in
    short steps so that a stop is seen soon."""
    while True:
        if stop.is_set():
            raise Stopped
        sock.settimeout(min(POLL_S, deadline.left()))
        try:
            return sock.recv_into(into)
        except TimeoutError:
            continue


class Answer:
    """One answer, fed to httptools as it arrives (its callbacks fill this in)."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.headed = self.complete = False
        self.status = 0
        self.keep_alive = False
        self.parser: Any = None  # httptools.HttpResponseParser, which calls back on_*

    @classmethod
    def read(cls, sock: socket.socket, deadline: Deadline, stop: threading.Event) -> Answer:
        """Read one whole answer by ``deadline``: TimeoutError past it, an OSError when the
        connection ends before it does, Oversized as soon as it says or shows that it is
        larger than MAX_ANSWER_BYTES, Stopped when the run stops meanwhile."""
        answer = cls()
        answer.parser = httptools.HttpResponseParser(answer)
        buffer = memoryview(bytearray(READ_BYTES))  # one buffer: memory stays flat
        size = 0
        while not answer.complete:
            count = _received(sock, buffer, deadline, stop)
            size += count
            if not count and answer.ends_with_connection():
                break
            if not count:
                raise ConnectionError("the connection closed before the whole answer came")
            answer.parser.feed_data(buffer[:count])
            if size > MAX_ANSWER_BYTES or answer.declared() > MAX_ANSWER_BYTES:
                raise Oversized(f"BSG's answer was larger than {MAX_ANSWER_BYTES >> 20} MB")
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
        self.fields.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # only known until the next one
