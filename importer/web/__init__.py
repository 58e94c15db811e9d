"""The web page: drop a spreadsheet, check the mapping, import, download the results.

A thin layer over the library: every action calls what the command calls (open_table,
column_roles, run_import, run_undo, run_hlr_refresh, save_profile) and every setting goes
through the same ``resolve``.

    app       create_app(WebConfig): the Flask app
    state     what the pages share: WebConfig, Web (uploads, jobs, History), web()
    guard     password, cookie sessions, CSRF, security headers
    uploads   private folders for uploaded files
    preview   what the page shows about a file: format, sheets, rows, column roles
    pages     home, upload, the file's page (mapping, check, import, save as profile)
    runs      jobs (progress, stop), downloads, history (resume, undo, hlr-refresh)
    jobs      runs in background threads
    serve     the HTTP server, and the sandbox beside it for --sandbox
"""

from .app import create_app
from .state import WebConfig

__all__ = ["WebConfig", "create_app"]
