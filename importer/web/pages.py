"""Home (drop a file, profiles, history) and a file's page (mapping, check, import)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..errors import BsgImportError, UsageError
from ..profiles import list_profiles, load_profile, save_profile
from ..read import detect
from ..settings import DEFAULT_WAIT_HLR_S, OFF, Layer, Settings, checked
from .preview import fitting_profiles, phone_choices, proposed_region, read_preview, regions
from .runs import start_import
from .state import Web, web
from .uploads import Upload, save_upload

blueprint = Blueprint("pages", __name__)
#: The choices of the page that a profile keeps, besides the mapping.
PLAIN_CHOICES = ("list_name", "default_region", "region_column", "on_existing", "date_order")


@blueprint.get("/")
def home() -> str:
    state = web()
    history = state.history()
    return render_template(
        "home.html",
        history=history,
        undone={past.key: state.undo_state(past) for past in history},
        left_lists=state.left_lists.all(state.service().api_root),
        running_outputs={str(j.output.resolve()): j.id for j in state.jobs.running() if j.output},
        jobs=state.jobs.latest()[:10],
        profiles=list_profiles(state.config.profile_dir),
        max_upload_mb=state.config.max_upload_mb,
    )


@blueprint.post("/upload")
def upload() -> Any:
    state = web()
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash("Choose a file first.", "error")
        return redirect(url_for(".home"))
    try:
        stored = save_upload(sent.stream, sent.filename, state.uploads_root,
                             state.config.max_upload_mb << 20)  # fmt: skip
    except BsgImportError as error:
        flash(state.scrub(str(error)), "error")
        return redirect(url_for(".home"))
    try:
        reading = state.settings({"file": stored.path, "list_name": stored.path.stem})
        detect(stored.path, max_unpacked_bytes=reading.max_unpacked_mb << 20)
    except BsgImportError as error:  # a zip bomb, a damaged or disguised file: not kept
        stored.delete()
        flash(state.scrub(str(error)), "error")
        return redirect(url_for(".home"))
    stored.choices = {"list_name": stored.path.stem}
    state.uploads[stored.id] = stored
    return redirect(url_for(".file_page", upload_id=stored.id))


@blueprint.get("/file/<upload_id>")
def file_page(upload_id: str) -> Any:
    state, stored = web(), _upload(upload_id)
    settings = _settings(state, stored)
    try:
        preview = read_preview(settings)
        if not stored.region_asked and "default_region" not in stored.choices:
            stored.region_asked = True  # proposed once, from the file; then as chosen
            stored.proposed_region = proposed_region(preview.table)
            stored.choices["default_region"] = stored.proposed_region
            if stored.proposed_region:
                settings = _settings(state, stored)
                preview = read_preview(settings)
    except BsgImportError as error:
        if _mapped(stored.choices):  # a mapping that no longer fits (another sheet): start over
            stored.choices = {k: v for k, v in stored.choices.items() if not _is_mapping(k)}
            flash(f"{state.scrub(str(error))}: the mapping was reset", "error")
            return redirect(url_for(".file_page", upload_id=upload_id))
        return _choose_phone(state, stored, settings, state.scrub(str(error))), 422
    folder = state.config.profile_dir
    offered = [] if _mapped(stored.choices) else fitting_profiles(preview.table, folder)
    return render_template(
        "file.html",
        upload=stored,
        preview=preview,
        choices=stored.choices,
        offered=offered,
        wait_hlr=settings.wait_hlr,
        regions=regions(),
        region=settings.default_region,
        proposed=_proposed_name(stored, settings),
        default_wait_hlr=DEFAULT_WAIT_HLR_S,
        account_error=state.scrub(preview.account_error),
        notes=[state.scrub(n) for n in preview.table.notes],
    )


@blueprint.post("/file/<upload_id>")
def file_action(upload_id: str) -> Response:
    state, stored = web(), _upload(upload_id)
    action = request.form.get("action", "preview")
    try:
        if action.startswith("use-profile:"):
            name = action.removeprefix("use-profile:")
            profile = load_profile(name, state.config.profile_dir)
            stored.choices = dict(profile.values)
            return redirect(url_for(".file_page", upload_id=upload_id))
        if action.startswith("phone:") or action == "sheet":  # from the phone column chooser
            kept = {k: v for k, v in stored.choices.items() if not _is_mapping(k)}
            chosen = {"sheet": request.form.get("sheet") or None}
            if action.startswith("phone:"):
                chosen["phone_column"] = action.removeprefix("phone:")
            stored.choices = {**kept, **checked(chosen, "the page")}
            return redirect(url_for(".file_page", upload_id=upload_id))
        if "list_name" in request.form:  # the mapping form (a check's page imports as checked)
            stored.choices = _choices(request.form, stored)
        settings = _settings(state, stored)
        if action == "save":
            return _save_profile(state, stored, settings)
        if action in ("check", "import"):
            job = start_import(state, stored, dry_run=action == "check")
            return redirect(url_for("runs.job_page", job_id=job.id))
    except BsgImportError as error:
        flash(state.scrub(str(error)), "error")
    return redirect(url_for(".file_page", upload_id=upload_id))


def _proposed_name(stored: Upload, settings: Settings) -> str | None:
    """The region's name when the page proposed the one in use."""
    if stored.proposed_region is None or stored.proposed_region != settings.default_region:
        return None
    return dict(regions()).get(stored.proposed_region)


def _choose_phone(state: Web, stored: Upload, settings: Settings, error: str) -> str:
    """The file can't be read as it stands: offer its columns as the phone column."""
    try:
        detected = detect(stored.path, max_unpacked_bytes=settings.max_unpacked_mb << 20)
    except BsgImportError:
        detected = None
    offered = phone_choices(settings) if detected else []
    return render_template("file.html", upload=stored, error=error, detected=detected,
                           phone_choices=offered, sheet=settings.sheet)  # fmt: skip


def _save_profile(state: Web, stored: Upload, settings: Settings) -> Response:
    name = request.form.get("profile_name", "").strip()
    save_profile(name, settings, state.config.profile_dir)
    flash(f"Saved as profile '{name}': the next file with the same columns is mapped for you.",
          "ok")  # fmt: skip
    return redirect(url_for(".file_page", upload_id=stored.id))


def _upload(upload_id: str) -> Upload:
    stored = web().uploads.get(upload_id)
    if stored is None or not stored.path.is_file():
        abort(404, "this file is no longer here (imported, or the server restarted): drop it again")
    return stored


def _settings(state: Web, stored: Upload, **extra: object) -> Settings:
    return state.settings({**stored.choices, "file": stored.path, **extra})


def _choices(form: MultiDict[str, str], stored: Upload) -> Layer:
    """The form as option values: the mapping from each column's role, and the rest."""
    chosen: dict[str, object] = {k: form.get(k, "").strip() or None for k in PLAIN_CHOICES}
    region = chosen["default_region"]
    if region is not None and str(region).upper() not in dict(regions()):
        raise UsageError(f"{region!r} is no country this page knows: choose one from the list")
    chosen["wait_hlr"] = _wait_hlr(form)
    sheet = form.get("sheet") or None
    if sheet != (form.get("shown_sheet") or None):  # another sheet: mapped afresh
        return checked({**chosen, "sheet": sheet}, "the page")
    chosen["sheet"] = sheet
    columns = form.getlist("column")
    roles = [form.get(f"role-{i}", "") for i in range(len(columns))]
    if columns and roles.count("phone") != 1:
        raise UsageError("choose exactly one phone column")
    if columns:
        chosen |= _mapping(columns, roles)
    return checked(chosen, "the page")


def _wait_hlr(form: MultiDict[str, str]) -> object:
    """The HLR wait as --wait-hlr takes it: the seconds when ticked, else OFF (which also
    turns off a wait the config file asks for: the page imports as it shows)."""
    if not form.get("wait_hlr"):
        return OFF
    seconds = form.get("wait_hlr_s", "").strip()
    try:
        value = float(seconds) if seconds else DEFAULT_WAIT_HLR_S
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise UsageError(f"wait for HLR results: {seconds!r} is not a number of seconds")
    return value


def _is_mapping(name: str) -> bool:
    return name in ("phone_column", "field_map", "skip_columns", "create_fields")


def _mapped(choices: Layer) -> bool:
    return any(_is_mapping(k) for k in choices)


def _mapping(columns: list[str], roles: list[str]) -> dict[str, object]:
    """Each column's role as --phone-column (then the columns for rows without a number in
    the first, in order), --map, --skip-column and --create-fields."""
    pairs = list(zip(columns, roles, strict=True))
    mapped = [(c, r.removeprefix("field:")) for c, r in pairs if r.startswith("field:")]
    new = [(c, c) for c, r in pairs if r == "new"]
    phones = [columns[roles.index("phone")]] + [c for c, r in pairs if r == "phone-next"]
    return {
        "phone_column": phones[0] if len(phones) == 1 else phones,
        "field_map": mapped + new,
        "skip_columns": [c for c, r in pairs if r == "skip"],
        "create_fields": bool(new),
    }
