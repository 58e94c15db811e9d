"""Completion notices: when a run ends, its summary is POSTed to ``--notify-url``.

The notice holds the list, the counts, the exit code, the results path, the duration and
the first problem rows as row number and reason. A chat channel is no place for phone
numbers: quoted values and long runs of digits in a reason are masked, and no cell is sent.
Nor is the key, nor any header of the API. A notice is tried a few times, each with a short
timeout; one that can't be delivered is reported to the caller (which logs it) and never
changes the run's exit code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import tenacity

from ..errors import BsgImportError, Interrupted
from ..models import ImportSummary, summary_line
from ..settings import NotifyFormat, Settings, where

TIMEOUT_S = 5.0
ATTEMPTS = 3
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_DIGITS = re.compile(r"\+?\d[\d\s().\-/]{4,}\d")


class _Retry(Exception):
    """An answer worth another try: 5xx, 408, 429, or no answer at all."""


def notified(
    settings: Settings, run: Callable[[], ImportSummary], warn: Callable[[str], None]
) -> ImportSummary:
    """``run()``, then, however it ends, the notice the settings ask for; ``warn`` hears
    of a notice that could not be delivered."""
    if settings.notify_url is None:
        return run()
    started = time.monotonic()
    try:
        summary = run()
    except BsgImportError as error:
        _deliver(settings, settings.notify_url, error, time.monotonic() - started, warn)
        raise
    _deliver(settings, settings.notify_url, summary, summary.elapsed_s, warn)
    return summary


def _deliver(
    settings: Settings,
    url: str,
    ended: ImportSummary | BsgImportError,
    elapsed_s: float,
    warn: Callable[[str], None],
) -> None:
    payload = notice(ended, list_name=settings.list_name, file=settings.file.name,
                     elapsed_s=elapsed_s)  # fmt: skip
    problem = send(url, payload, settings.notify_format)
    if problem is not None:
        warn(problem)


def masked(text: str) -> str:
    """A reason with the values it quotes and any run of digits masked."""
    return _DIGITS.sub("…", _QUOTED.sub("'…'", text))


def notice(
    ended: ImportSummary | BsgImportError, *, list_name: str, file: str, elapsed_s: float
) -> dict[str, Any]:
    """The notice of a run that ended with a summary, or with an error (then without)."""
    summary = ended if isinstance(ended, ImportSummary) else None
    if isinstance(ended, Interrupted) and isinstance(ended.summary, ImportSummary):
        summary = ended.summary
    error = masked(str(ended)) if isinstance(ended, BsgImportError) else None
    code = ended.exit_code
    text = summary_line(summary) if summary else f"{list_name} ({file}): Error: {error}"
    return {
        "text": f"bsg-import: {text} (exit {code})",
        "list_name": list_name,
        "list_id": summary.list_id if summary else None,
        "file": file,
        "exit_code": code,
        "counts": summary.counts if summary else {},
        "output": summary.output if summary else None,
        "elapsed_s": round(summary.elapsed_s if summary else elapsed_s, 3),
        "errors": [
            {"row": row, "reason": masked(reason)}
            for row, reason in (summary.first_errors if summary else ())
        ],
        "error": error,
    }


def slack(payload: dict[str, Any]) -> dict[str, str]:
    """The notice as a chat message: the summary line, then the first problem rows."""
    lines = [payload["text"]]
    lines += [f"row {e['row']}: {e['reason']}" for e in payload["errors"]]
    return {"text": "\n".join(lines)}


def send(
    url: str,
    payload: dict[str, Any],
    notify_format: NotifyFormat = "json",
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """POST the notice; None when delivered, else why not (for the log)."""
    body = slack(payload) if notify_format == "slack" else payload
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_Retry),
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=tenacity.wait_exponential(multiplier=0.5, max=2),
        sleep=sleep,
        reraise=True,
    )
    with httpx.Client(timeout=TIMEOUT_S, transport=transport) as client:
        try:
            retrying(_post, client, url, body)
        except _Retry as failed:
            return f"completion notice not delivered to {where(url)}: {failed}, {ATTEMPTS} tries"
        except _Refused as failed:
            return f"completion notice not delivered to {where(url)}: {failed}"
    return None


class _Refused(Exception):
    """An answer that another try won't change (4xx)."""


def _post(client: httpx.Client, url: str, body: dict[str, Any]) -> None:
    try:
        response = client.post(url, json=body)
    except httpx.TransportError as exc:
        raise _Retry(f"no answer ({type(exc).__name__})") from None
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise _Retry(f"answered {status}")
    if not response.is_success:
        raise _Refused(f"answered {status}")
