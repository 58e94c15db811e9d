"""Jobs (progress, stop), downloads, and History (resume, undo, hlr-refresh)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from ..errors import BsgImportError, Interrupted, exit_for
from ..models import ImportSummary, RowOutcome, Status, cell_text
from ..report import reachable
from ..runs.control import RunControl
from ..runs.history import PastImport, carried_counts, journal_path
from ..runs.hlr_refresh import run_hlr_refresh
from ..runs.importing import INTERRUPTED, run_import
from ..runs.results_book import read_results_book
from ..runs.undo import plan_undo, run_undo
from ..settings import RESULTS_SUFFIX, Settings, results_name
from .downloads import errors_to_fix, results_in_words
from .jobs import Job, Kind, State, Work
from .leftovers import LeftLists, empty_list_id, list_exists, remove_list
from .state import Web, web
from .uploads import Upload

blueprint = Blueprint("runs", __name__)
LOG = logging.getLogger("importer.web")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Invalid rows shown on a check's page (all of them are in the results workbook).
SHOWN_PROBLEMS = 200


def start_import(state: Web, stored: Upload, *, dry_run: bool) -> Job:
    """Start a check (dry run) or an import of an uploaded file with its choices; the
    import of the same file into the same list already running, if there is one."""
    folder = state.results_root / stored.id / ("check" if dry_run else "")
    output = folder / results_name(stored.path)
    settings = state.settings({**stored.choices, "file": stored.path, "output": output,
                               "dry_run": dry_run})  # fmt: skip
    key = None if dry_run else journal_path(settings).stem
    running = state.jobs.running_import(key) if key else None
    if running is not None:
        return running
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    kind: Kind = "check" if dry_run else "import"
    job = Job(kind, f"{stored.name} into {settings.list_name!r}", upload_id=stored.id)
    job.output, job.journal_key = output, key

    def after(ended: State) -> None:
        if kind == "import" and ended == "done":
            stored.delete()  # imported: the upload is not kept
            state.uploads.pop(stored.id, None)
        if kind == "check" and ended == "done":  # kept with the job: true whatever follows
            try:
                job.problems = _problems(output)
            except BsgImportError:
                job.problems = None

    left = None if dry_run else state.left_lists
    return state.jobs.start(job, _importing(job, settings, left), after)


@blueprint.get("/jobs/<job_id>")
def job_page(job_id: str) -> str:
    job = _job(job_id)
    mapping = job.upload_id if job.upload_id in web().uploads else None
    columns, problems = job.problems or ([], [])
    imported = web().jobs.imported_after(job)
    notes = [n for n in job.summary.notes if n != INTERRUPTED] if job.summary else []
    share = reachable(Counter(getattr(job.result, "hlr_counts", None) or {}))  # as in Summary
    return render_template("job.html", job=job, status=job.status(), columns=columns,
                           problems=problems, notes=notes, reachable=share,
                           mapping=mapping, imported=imported,
                           not_sent=_not_sent(job))  # fmt: skip


@blueprint.get("/jobs/<job_id>/status")
def job_status(job_id: str) -> Response:
    return jsonify(_job(job_id).status())


@blueprint.post("/jobs/<job_id>/stop")
def job_stop(job_id: str) -> Response:
    _job(job_id).stop()
    return redirect(url_for(".job_page", job_id=job_id))


@blueprint.get("/jobs/<job_id>/<kind>.xlsx")
def job_download(job_id: str, kind: str) -> Response:
    job = _job(job_id)
    if job.state == "running" or job.output is None:
        abort(409, "the results are written when the run ends")
    return _download(job.output, kind)


@blueprint.get("/history/<key>/<kind>.xlsx")
def past_download(key: str, kind: str) -> Response:
    return _download(_past(key).output, kind)


@blueprint.post("/history/<key>/resume")
def past_resume(key: str) -> Response:
    state, past = web(), _past(key)
    if not past.resumable:
        abort(409, "this import is not waiting to be resumed")
    running = state.jobs.running_import(key)
    if running is not None:
        return redirect(url_for(".job_page", job_id=running.id))
    settings = state.settings(past.resume_settings())
    job = Job("import", f"{past.file.name} into {past.list_name!r} (resumed)")
    job.output, job.journal_key = past.output, key
    uploads = state.uploads_root.resolve()

    def after(ended: State) -> None:
        if ended == "done" and uploads in past.file.resolve().parents:
            Upload("", past.file.parent, past.file).delete()

    state.jobs.start(job, _importing(job, settings), after)
    return redirect(url_for(".job_page", job_id=job.id))


@blueprint.route("/history/<key>/undo", methods=["GET", "POST"])
def past_undo(key: str) -> Any:
    state, past = web(), _past(key)
    book = _book(past)
    plan = plan_undo(book)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("undo.html", past=past, plan=plan)
    account = state.service()
    job = Job("undo", f"{past.file.name} into {past.list_name!r}")
    job.output = past.output
    state.jobs.start(job, lambda control: run_undo(book, plan, account, control=control),
                     lambda _: None)  # fmt: skip
    return redirect(url_for(".job_page", job_id=job.id))


@blueprint.post("/history/<key>/hlr-refresh")
def past_hlr_refresh(key: str) -> Response:
    state, past = web(), _past(key)
    book = _book(past)
    account = state.service()
    job = Job("hlr", f"{past.file.name} into {past.list_name!r}")
    job.output = past.output

    def work(control: RunControl) -> Any:
        return run_hlr_refresh(book, account, control=control)

    state.jobs.start(job, work, lambda _: None)
    return redirect(url_for(".job_page", job_id=job.id))


def _importing(job: Job, settings: Settings, left: LeftLists | None = None) -> Work:
    """run_import, with the rows an earlier run settled counted from the start; a list the
    import created and left empty when it failed is recorded in ``left``."""

    def work(control: RunControl) -> ImportSummary:
        job.counts.update(carried_counts(settings))
        existed = list_exists(settings) if left is not None else None
        # run_import sends the completion notice (--notify-url); a check is no import
        noticed = replace(settings, notify_url=None) if settings.dry_run else settings
        try:
            return run_import(noticed, control=replace(control, warn=_warn))
        except Interrupted:
            raise
        except Exception:  # whatever ended it (the job says what), the list may be left
            if left is not None and existed is False:
                list_id = empty_list_id(settings)
                job.left_list = left.add(list_id, settings) if list_id is not None else None
            raise

    return work


@blueprint.post("/lists/<key>/remove")
def left_list_remove(key: str) -> Response:
    state = web()
    left = state.left_lists.get(key)
    if left is None:
        abort(404, "no such list left by a failed import")
    try:
        done = remove_list(state.service(), left)
    except Exception as error:  # BSG's refusal, shown as it says it
        flash(f"The list {left.name!r} could not be removed: {state.scrub(str(error))}", "error")
        return redirect(url_for("pages.home") + "#history")
    state.left_lists.drop(key)
    flash(done[0].upper() + done[1:] + ".", "ok")
    return redirect(url_for("pages.home") + "#history")


@blueprint.post("/lists/<key>/keep")
def left_list_keep(key: str) -> Response:
    web().left_lists.drop(key)
    return redirect(url_for("pages.home") + "#history")


def _warn(problem: str) -> None:
    """A notice that could not be delivered: one line in the server's log."""
    LOG.warning("%s", problem)


def _not_sent(job: Job) -> int:
    """Rows a stopped import did not send (the results mark them failed; History doesn't)."""
    summary = job.summary
    if job.state != "stopped" or summary is None or job.hlr:
        return 0
    return max(0, summary.counts.get(Status.FAILED, 0) - job.counts.get(Status.FAILED, 0))


def _job(job_id: str) -> Job:
    job = web().jobs.get(job_id)
    if job is None:
        abort(404, "no such run (the server may have restarted: see History)")
    return job


def _past(key: str) -> PastImport:
    past = web().past(key)
    if past is None:
        abort(404, "no such import in History")
    return past


def _book(past: PastImport) -> Any:
    try:
        return read_results_book(past.output)
    except BsgImportError as error:
        abort(410, web().scrub(exit_for(error).message))


def _download(path: Path, kind: str) -> Response:
    if not path.is_file():
        abort(410, "the results workbook is gone")
    if kind == "errors":
        name = path.name.replace(RESULTS_SUFFIX, ".errors.xlsx")
        return send_file(errors_to_fix(path), mimetype=XLSX, as_attachment=True,
                         download_name=name)  # fmt: skip
    if kind != "results":
        abort(404)
    return send_file(results_in_words(path), mimetype=XLSX, as_attachment=True,
                     download_name=path.name)  # fmt: skip


def _problems(path: Path) -> tuple[list[str], list[tuple[list[str], RowOutcome]]]:
    """The rows a check found invalid, with their cells as text."""
    book = read_results_book(path)
    problems = [
        ([cell_text(c) for c in cells], outcome)
        for cells, outcome in book.rows
        if outcome.status in (Status.INVALID, Status.FAILED)
    ]
    return book.columns, problems[:SHOWN_PROBLEMS]
