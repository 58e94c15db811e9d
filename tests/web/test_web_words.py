"""The page in its users' words (issue 21, items 9 and 11-14), each tried in Debian's
chromium: regions by name, no command-line words, a layout that fits, a results workbook
in words, and the completion notice."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openpyxl
from playwright.sync_api import Page

from importer.runs.results_book import read_results_book
from importer.runs.undo import plan_undo
from importer.sandbox import Faults

from ..conftest import sheet_rows
from ..helpers import SAMPLE_XLSX, run_cli, state_of, ukrainian_mobiles, write_contacts_csv
from ..runs.test_notify import Receiver
from ..web_helpers import csrf_of, page_config, page_server
from ..web_look import browser, look, page, shots, upload

__all__ = ["browser", "page", "shots"]
KEY = {"BSG_API_KEY": "live_sandbox"}


def test_the_region_is_chosen_by_name_and_proposed_from_the_file(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, SAMPLE_XLSX)  # Ukrainian: its +380 numbers say so
        assert page.input_value("#default_region") == "UA"
        assert "Ukraine (+380)" in page.inner_text("#default_region option:checked")
        assert "proposed" in page.inner_text("#region-note")
        assert "Ukraine" in page.inner_text("#region-note")
        verdicts = page.locator("td.verdict").all_inner_texts()
        assert verdicts[1] == "+380502345678"  # 050-234-56-78: read as Ukrainian
        look(page, shots, "9-region-proposed")
        names = page.locator("#default_region option").all_inner_texts()
        assert "United Kingdom (+44)" in names and "Poland (+48)" in names
        assert names[1:] == sorted(names[1:])
        page.evaluate(
            "document.querySelector('#default_region').add(new Option('XX', 'XX', true, true))"
        )
        page.click("#update")
        page.wait_for_load_state()
        assert "'XX' is no country this page knows" in page.inner_text(".flash.error")


def test_the_results_download_names_its_columns_in_words_and_the_command_reads_it(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        page.fill("#list_name", "Promo")
        page.click("#import")
        page.wait_for_selector("#summary")
        look(page, shots, "13-imported")
        with page.expect_download() as results:
            page.click("#download-results")
        workbook = tmp_path / "downloaded.xlsx"
        results.value.save_as(workbook)
        with page.expect_download() as errors:
            page.click("#download-errors")
        errors_book = tmp_path / "errors.xlsx"
        errors.value.save_as(errors_book)
    header = next(openpyxl.load_workbook(workbook)["Results"].iter_rows(values_only=True))
    assert header[-7:] == ("Row", "Phone (international)", "Status", "Contact ID",
                           "Reachable (HLR)", "Checked at", "Problem")  # fmt: skip
    rows = sheet_rows(workbook)
    created = [r for r in rows if r["Status"] == "created"]
    assert len(created) == 45
    assert all(str(r["Phone (international)"]).startswith("+") for r in created), created[:2]
    fix = sheet_rows(errors_book, "Errors")
    assert [(r["Row"], r["Phone"]) for r in fix] == [(15, "12345"), (37, "not known")]
    assert all(r["Problem"] for r in fix)

    book = read_results_book(workbook)  # the command's readers read the words too
    assert len(plan_undo(book).delete) == 45
    refreshed = run_cli("hlr-refresh", workbook, "--base-url", server.url, env=KEY)
    assert refreshed.code == 0, refreshed.stderr
    undone = run_cli("undo", workbook, "--yes", "--base-url", server.url, env=KEY)
    assert undone.code == 0, undone.stderr
    assert state_of(sandbox)["contacts"] == []


WIDTHS = (1280, 1600, 1920)


def hidden_width(page: Page, selector: str) -> int:
    """How much of an element's content is out of its box (0: all of it shows)."""
    script = "(el) => el.scrollWidth - el.clientWidth"
    return int(page.locator(selector).first.evaluate(script))


def gap_between(page: Page, above: str, below: str) -> float:
    """Pixels between the bottom of ``above`` and the top of ``below``."""
    top = page.locator(below).bounding_box()
    bottom = page.locator(above).bounding_box()
    assert top and bottom
    return top["y"] - (bottom["y"] + bottom["height"])


def test_the_layout_fits_from_1280_to_1920_pixels(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        page.fill("#list_name", "Promo")
        file_url = page.url
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(file_url)
            look(page, shots, f"12-mapping-{width}")
            assert hidden_width(page, "table.mapping") <= 0, width
            assert hidden_width(page, ".card .scroll") <= 1, width  # "Will be sent as" shows
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("#check")
        page.wait_for_selector("#problems")
        look(page, shots, "12-check")
        assert gap_between(page, "#problems .scroll", "#problems .actions-bar") >= 8
        assert page.get_attribute("#rate", "id") == "rate"
        assert "." not in page.inner_text("#rate")  # whole rows a second
        page.goto(url)
        favicon = page.request.get(url + "/favicon.ico")
        assert favicon.status == 200 and "svg" in favicon.headers["content-type"]
        assert page.locator("link[rel=icon]").count() == 1


def test_signed_out_the_menu_offers_nothing_but_signing_in(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server, password="pw")) as (url, _):
        page.goto(url)
        page.wait_for_url("**/login")
        shown = look(page, shots, "12-signed-out")
        assert page.locator(".topbar nav a").count() == 0
        assert "History" not in shown and "Profiles" not in shown
        assert gap_between(page, "input[type=password]", "form button") >= 8
        page.fill("input[type=password]", "pw")
        page.click("form button")
        page.wait_for_url(url + "/")
        assert page.locator(".topbar nav a").count() == 3


def test_the_page_sends_the_completion_notice_configured_for_serve(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    receiver = Receiver()
    config = page_config(tmp_path, server, base={"notify_url": receiver.url})
    try:
        with page_server(config) as (url, _):
            upload(page, url, SAMPLE_XLSX)
            page.fill("#list_name", "Promo")
            page.click("#check")
            page.wait_for_selector("#problems")
            assert receiver.posts == []  # a check sends nothing: it imports nothing
            page.click("#import")
            page.wait_for_selector("#summary")
            look(page, shots, "14-notified")
        [notice] = receiver.bodies()
    finally:
        receiver.close()
    assert notice["list_name"] == "Promo" and notice["counts"]["created"] == 45
    assert notice["file"] == "contacts.xlsx" and notice["exit_code"] == 1
    assert "12345" not in json.dumps(notice)


def test_serve_takes_notify_url_and_the_page_import_notifies() -> None:
    receiver = Receiver()
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "serve", "--sandbox", "--port", "0",
         "--notify-url", receiver.url, "--notify-format", "slack"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        found = re.search(r"http://\S+", process.stderr.readline())
        assert found, "no URL"
        with httpx.Client(base_url=found.group(0)) as client:
            csrf = csrf_of(client.get("/").text)
            files = {"file": ("contacts.xlsx", SAMPLE_XLSX.read_bytes())}
            file_url = client.post("/upload", data={"csrf": csrf}, files=files).headers["location"]
            form = {"csrf": csrf, "list_name": "Promo", "default_region": "UA", "action": "import"}
            job_url = client.post(file_url, data=form).headers["location"]
            deadline = time.monotonic() + 60
            while client.get(job_url + "/status").json()["state"] == "running":
                assert time.monotonic() < deadline
                time.sleep(0.1)
        [notice] = receiver.bodies()
        assert "Promo" in notice["text"] and "45 created" in notice["text"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stderr.close()
        receiver.close()


COMMAND_WORDS = re.compile(r"BSG_|Ctrl-C|\bcron\b|utf-?8|cp1251|--", re.IGNORECASE)


def plain(page: Page, shots: Path, name: str) -> str:
    """``look``, and none of the command's words either."""
    shown = look(page, shots, name)
    found = [w for w in COMMAND_WORDS.findall(shown) if w != "UTF-8"]
    assert not found, f"{name}: {found} on the page"
    return shown


def test_no_command_line_words_where_a_marketer_reads(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    source = tmp_path / "excel export.csv"
    source.write_text("Phone,Name\n+380501234567,Olena\n050 234 56 78,Petro\n", "utf-8-sig")
    big = tmp_path / "big.csv"
    big.write_bytes(b"Phone\n" + b"+380501234567\n" * 100_000)  # 1.4 MB; the limit is 1 MB
    slow = write_contacts_csv(tmp_path / "slow.csv", ukrainian_mobiles(300))
    sandbox.faults = Faults(latency=0.05)
    config = page_config(tmp_path, server, max_upload_mb=1, base={"concurrency": 1})
    with page_server(config) as (url, _):
        upload(page, url, source)
        facts = plain(page, shots, "11-encoding")
        assert "UTF-8" in page.inner_text(".facts")
        assert "HLR check: whether each number is reachable" in facts
        page.select_option("#default_region", "")
        with page.expect_navigation():
            page.click("#update")
        verdict = page.locator("td.verdict").nth(1).inner_text()
        assert "has no country code: choose the country above" in verdict
        plain(page, shots, "11-no-region")
        page.fill("#profile_name", "Weekly")
        page.click("#save")
        page.goto(url + "/#profiles")
        plain(page, shots, "11-profiles")
        page.click("#scheduled summary")  # for whoever runs the scheduled imports
        assert "--profile 'Weekly'" in page.inner_text("#scheduled")

        page.goto(url)
        page.set_input_files("#file", str(big))
        page.wait_for_load_state()
        refused = plain(page, shots, "11-too-large")
        assert "larger than this page accepts (1 MB)" in refused and "Save it as CSV" in refused

        upload(page, url, slow)
        page.click("#import")
        page.wait_for_selector("#stop")
        plain(page, shots, "11-running")
        page.click("#stop")
        page.wait_for_selector("#resume")


def test_running_now_on_the_home_page_counts_as_people_read_and_updates(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    source = write_contacts_csv(tmp_path / "many.csv", ukrainian_mobiles(1500))
    sandbox.faults = Faults(latency=0.02)
    with page_server(page_config(tmp_path, server, base={"concurrency": 2})) as (url, _):
        upload(page, url, source)
        page.click("#import")
        page.wait_for_url("**/jobs/**")
        page.goto(url)
        running = page.locator(".running-job")
        page.wait_for_function(
            "document.querySelector('.running-job .total').textContent === '1,500'"
        )
        first = int(running.locator(".done").inner_text().replace(",", ""))
        page.wait_for_function(
            f"parseInt(document.querySelector('.running-job .done').textContent"
            f".replace(/,/g, '')) > {first + 20}"
        )
        look(page, shots, "12-running-now")
        job = running.locator("a").get_attribute("href")
        page.goto(url + str(job))
        page.click("#stop")
        page.wait_for_selector("#resume")


def test_each_rows_country_column_is_offered_and_can_be_turned_off(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    source = tmp_path / "shop.csv"
    source.write_text(
        "Phone,Country\n+380501234567,Ukraine\n030 1234567,Germany\n0501234568,Ukraine\n",
        encoding="utf-8",
    )
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, source)
        assert "from the column Country" in page.inner_text("#region_column option:checked")
        verdicts = page.locator("td.verdict").all_inner_texts()
        assert verdicts[1] == "+49301234567"  # read as German, as its row says
        look(page, shots, "9-country-column")
        page.select_option("#region_column", "none")
        with page.expect_navigation():
            page.click("#update")
        assert page.input_value("#region_column") == "none"
        assert page.locator("td.verdict").nth(1).inner_text() != "+49301234567"


def test_a_second_phone_column_serves_the_rows_without_a_number_in_the_first(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    source = tmp_path / "crm.csv"
    source.write_text(
        "Name,Mobile,Home phone\nOlena,+380501234567,+380441112233\nPetro,,+380442223344\n",
        encoding="utf-8",
    )
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, source)
        if page.input_value("#role-1") != "phone":  # the column with more numbers is chosen
            with page.expect_navigation():
                page.select_option("#role-1", "phone")
        with page.expect_navigation():
            page.select_option("#role-2", "phone-next")
        assert page.input_value("#role-1") == "phone"
        assert page.input_value("#role-2") == "phone-next"
        verdicts = page.locator("td.verdict").all_inner_texts()
        assert verdicts == ["+380501234567", "+380442223344"]
        assert "for rows without one in the first" in page.inner_text("th.role-phone >> nth=1")
        look(page, shots, "phone-fallback-column")
