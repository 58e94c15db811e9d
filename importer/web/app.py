"""create_app(): the Flask app, around the state its pages share (``state``)."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from . import guard, pages, runs
from .state import Web, WebConfig, web
from .words import page_words


def create_app(config: WebConfig) -> Flask:
    """The page's Flask app."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_mb << 20
    app.extensions["bsg_import"] = Web(config)
    guard.install(app, config.password, secure_cookies=config.secure_cookies,
                  hosts=config.hosts, idle_s=config.session_idle_s)  # fmt: skip
    app.add_template_filter(page_words, "words")
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(runs.blueprint)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _unexpected)
    return app


def _favicon() -> Response:
    return current_app.send_static_file("favicon.svg")


def _unexpected(error: Exception) -> tuple[str, int]:
    """A bug: one line in the log (no traceback with the server's paths), a plain page."""
    current_app.logger.error("unexpected %s on %s", type(error).__name__, request.path)
    message = "Something went wrong on the server; the import's journal keeps what was done."
    return render_template("error.html", code=500, title="500 · Server error", message=message), 500


def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    message = error.description or ""
    if isinstance(error, RequestEntityTooLarge):
        limit = web().config.max_upload_mb
        message = (
            f"The file is larger than this page accepts ({limit} MB). Save it as CSV, which "
            "is smaller, or split it into files of fewer rows, and drop each here."
        )
    title = "The file is too large" if code == 413 else f"{code} · {error.name}"
    return render_template("error.html", code=code, title=title, message=message), code
