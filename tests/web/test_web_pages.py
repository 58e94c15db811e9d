"""The page's steps through Flask's test client, against the sandbox as a real server:
sheets, text formats, undo that asks first, hlr-refresh, the lock, unused uploads."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from importer.sandbox import Faults
from importer.web import create_app

from ..conftest import sheet_rows
from ..fixtures.build import text_file, xlsx
from ..helpers import SAMPLE_XLSX, phones_in, ukrainian_mobiles, write_contacts_csv
from ..web_helpers import csrf_of, finished, page_config, send_file


@pytest.fixture
def app(tmp_path: Path, server: Any) -> Iterator[Flask]:
    made = create_app(page_config(tmp_path, server))
    yield made
    made.extensions["bsg_import"].jobs.stop_all()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def imported(client: FlaskClient, path: Path, list_name: str) -> str:
    """Import ``path`` with the page's defaults; the job's URL once it is done."""
    file_url, csrf = send_file(client, path)
    form = {"csrf": csrf, "list_name": list_name, "default_region": "UA", "action": "import"}
    job_url = client.post(file_url, data=form).headers["Location"]
    assert finished(client, job_url)["state"] == "done"
    return str(job_url)


def test_a_workbook_with_several_sheets_offers_each(tmp_path: Path, client: FlaskClient) -> None:
    book = xlsx(tmp_path / "two.xlsx", {
        "Read me": [["This workbook lists our clients"]],
        "Clients": [["Phone", "Name"], ["+380501234567", "Taras"]],
        "Leads": [["Mobile", "Town", "Score"], ["+380671234567", "Lviv", 3]],
    })  # fmt: skip
    file_url, csrf = send_file(client, book)
    page = client.get(file_url).get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"\s*(?:selected)?>', page)[:3] == [
        "Read me", "Clients", "Leads",
    ]  # fmt: skip
    assert 'value="Clients" selected' in page and ">Name</div>" in page
    form = {"csrf": csrf, "sheet": "Leads", "shown_sheet": "Clients", "list_name": "L",
            "column": ["Phone", "Name"], "role-0": "phone", "role-1": "skip"}  # fmt: skip
    client.post(file_url, data=form)
    page = client.get(file_url).get_data(as_text=True)
    assert 'value="Leads" selected' in page
    assert ">Town</div>" in page and ">Mobile</div>" in page and ">Name</div>" not in page
    assert 'name="role-0" id="role-0"' in page


def test_a_text_file_shows_its_encoding_and_delimiter(tmp_path: Path, client: FlaskClient) -> None:
    rows = [["Телефон", "Місто"], ["050 123 45 67", "Київ"], ["067 765 43 21", "Львів"]]
    source = text_file(tmp_path / "клієнти.csv", rows, encoding="cp1251", delimiter=";")
    file_url, _ = send_file(client, source)
    page = client.get(file_url).get_data(as_text=True)
    assert "<h1>клієнти.csv</h1>" in page
    facts = re.sub(r"\s+", " ", page[page.index('<dl class="facts">') :])
    assert "<dt>Encoding</dt><dd>Windows-1251 (Cyrillic)</dd>" in facts.replace("> <", "><")
    assert "<dt>Delimiter</dt><dd>semicolon</dd>" in facts.replace("> <", "><")
    assert "Київ" in page
    # Without a region a national number can't be read: the preview says so before any import.
    assert page.count('<td class="verdict bad">') == 2 and "+380501234567" not in page
    form = {"csrf": csrf_of(page), "list_name": "L", "default_region": "UA",
            "column": ["Телефон", "Місто"], "role-0": "phone", "role-1": "skip"}  # fmt: skip
    client.post(file_url, data=form)
    page = client.get(file_url).get_data(as_text=True)
    assert '<td class="verdict ok">+380501234567</td>' in page


def test_undo_from_history_asks_first_then_takes_the_import_back(
    tmp_path: Path, client: FlaskClient, sandbox: Any
) -> None:
    imported(client, SAMPLE_XLSX, "Promo")
    assert len(phones_in(sandbox)) == 45
    home = client.get("/").get_data(as_text=True)
    undo_url = re.search(r'href="(/history/[0-9a-f]{32}/undo)"', home)
    assert undo_url is not None
    page = client.get(undo_url.group(1)).get_data(as_text=True)
    assert "delete 45 contacts that this import created" in page and "Go ahead?" in page
    csrf = csrf_of(page)
    assert client.post(undo_url.group(1), data={"csrf": csrf}).status_code == 200  # not confirmed
    assert len(phones_in(sandbox)) == 45
    started = client.post(undo_url.group(1), data={"csrf": csrf, "confirm": "yes"})
    job_url = started.headers["Location"]
    assert finished(client, job_url)["state"] == "done"
    assert phones_in(sandbox) == {}
    page = client.get(job_url).get_data(as_text=True)
    assert "Contacts: 45 done." in page and str(tmp_path) not in page
    with client.get(job_url + "/results.xlsx") as download:
        (tmp_path / "undone.xlsx").write_bytes(download.data)
    assert {r["result"] for r in sheet_rows(tmp_path / "undone.xlsx", "Undo")} == {"done"}


def test_hlr_refresh_from_history(client: FlaskClient) -> None:
    imported(client, SAMPLE_XLSX, "Promo")
    home = client.get("/").get_data(as_text=True)
    action = re.search(r'action="(/history/[0-9a-f]{32}/hlr-refresh)"', home)
    assert action is not None
    job_url = client.post(action.group(1), data={"csrf": csrf_of(home)}).headers["Location"]
    assert finished(client, job_url)["state"] == "done"
    assert "45 contacts refreshed, 0 no longer exist" in client.get(job_url).get_data(as_text=True)


def test_one_import_at_a_time_per_file_and_list_the_running_one_opens(
    tmp_path: Path, client: FlaskClient, sandbox: Any
) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(300))
    sandbox.faults = Faults(latency=0.05)
    first_url, csrf = send_file(client, source)
    second_url, _ = send_file(client, source)  # the same file, dropped again
    form = {"csrf": csrf, "list_name": "Promo", "action": "import"}
    first = client.post(first_url, data=form).headers["Location"]
    while client.get(first + "/status").get_json()["done"] == 0:
        time.sleep(0.05)
    second = client.post(second_url, data=form).headers["Location"]
    assert second == first  # the running import is opened, not a second one failing
    client.post(first + "/stop", data={"csrf": csrf})
    assert finished(client, first)["state"] == "stopped"


def test_uploads_never_imported_are_deleted_when_the_page_stops(
    tmp_path: Path, app: Flask, client: FlaskClient
) -> None:
    send_file(client, SAMPLE_XLSX)
    imported(client, SAMPLE_XLSX, "Promo")
    uploads = tmp_path / "web" / "uploads"
    assert len(list(uploads.iterdir())) == 1  # the imported one is gone already
    app.extensions["bsg_import"].forget_unused()
    assert list(uploads.iterdir()) == []
