"""The web page in a real browser (Debian's chromium, driven by Playwright), end to end
against the sandbox as a real server. Each step leaves a screenshot in $SCREENSHOTS_DIR
(default: the test's temporary folder)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import openpyxl
from playwright.sync_api import Page

from importer.models import FINAL_HLR
from importer.profiles import save_profile
from importer.sandbox import Faults, HlrModel
from importer.settings import resolve

from ..conftest import sheet_rows
from ..helpers import (
    SAMPLE_XLSX,
    phones_in,
    run_cli,
    state_of,
    ukrainian_mobiles,
    write_contacts_csv,
)
from ..web_helpers import page_config, page_server
from ..web_look import browser, look, page, shots

KEY = {"BSG_API_KEY": "live_sandbox"}
__all__ = ["browser", "page", "shots"]


def shot(page: Page, folder: Path, name: str) -> None:
    """A screenshot, failing on an overflowing element or a command-line word."""
    look(page, folder, name)


def upload(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.set_input_files("#file", str(path))
    page.wait_for_url("**/file/**")


def choose_role(page: Page, column: int, role: str) -> None:
    """Change a column's role; the page updates its preview."""
    with page.expect_navigation():
        page.select_option(f"#role-{column}", role)
    assert page.input_value(f"#role-{column}") == role


def test_upload_map_check_import_download_and_a_profile_for_the_command(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server, profile_dir=None)) as (url, _):
        page.goto(url)
        shot(page, shots, "01-home")
        upload(page, url, SAMPLE_XLSX)
        facts = page.inner_text(".facts")
        assert "an .xlsx workbook" in facts and "Contacts" in facts and "48" in facts
        assert page.input_value("#role-1") == "phone"  # detected as the command does
        assert page.input_value("#role-0") == "field:First Name"
        assert page.locator("table.mapping tbody tr").count() == 20
        shot(page, shots, "02-detected")

        page.fill("#list_name", "Promo")
        page.select_option("#default_region", "UA")
        choose_role(page, 4, "new")  # Email: a new field
        choose_role(page, 2, "skip")  # City: not sent
        choose_role(page, 0, "phone")  # a wrong choice: the old phone column becomes not sent
        assert page.input_value("#role-1") == "skip"
        choose_role(page, 1, "phone")  # and back
        choose_role(page, 0, "field:First Name")
        assert "new field · text" in page.inner_text("th.role-new-field")
        assert page.input_value("#list_name") == "Promo"
        verdicts = page.locator("td.verdict").all_inner_texts()
        assert verdicts[1] == "+380502345678"  # 050-234-56-78, read with the region UA
        assert verdicts[12] == "+380501234567 · duplicate of row 2"
        assert "too short" in verdicts[13]
        shot(page, shots, "03-mapping")

        page.fill("#profile_name", "Weekly promo")
        page.click("#save")
        assert "Saved as profile 'Weekly promo'" in page.inner_text(".flash.ok")

        page.click("#check")
        page.wait_for_selector("#problems")
        summary = page.inner_text("#summary")
        assert "Would be created\t45" in summary and "Invalid\t2" in summary
        problems = page.inner_text("#problems")
        assert "'12345' is" in problems and "too short" in problems
        assert "'not known' is not a phone" in problems
        assert state_of(sandbox)["contacts"] == []  # a check sends nothing
        shot(page, shots, "04-check")

        page.click("#import")
        page.wait_for_selector("#summary")
        assert "Created\t45" in page.inner_text("#summary")
        shot(page, shots, "05-imported")

        with page.expect_download() as results:
            page.click("#download-results")
        workbook = tmp_path / "downloaded.xlsx"
        results.value.save_as(workbook)
        with page.expect_download() as errors:
            page.click("#download-errors")
        errors_book = tmp_path / "errors.xlsx"
        errors.value.save_as(errors_book)

    rows = sheet_rows(workbook)
    assert len(rows) == 48 and sum(r["Status"] == "created" for r in rows) == 45
    book = openpyxl.load_workbook(errors_book, read_only=True)
    assert book.sheetnames == ["Errors"]
    book.close()
    assert [r["Phone"] for r in sheet_rows(errors_book, "Errors")] == ["12345", "not known"]
    state = state_of(sandbox)
    fields = {f["name"]: f["id"] for f in state["fields"]}
    assert "Email" in fields  # created, as --create-fields would
    sent = {int(k) for c in state["contacts"] for k in c["fields"]}
    assert fields["City"] not in sent and fields["Email"] in sent

    # The profile saved on the page runs the same import from the command (cron).
    output = tmp_path / "again.xlsx"
    ran = run_cli(
        SAMPLE_XLSX, "--profile", "Weekly promo", "--base-url", server.url, "--output", output,
        "--journal-dir", tmp_path / "cli-journals", "--json", env=KEY,
    )  # fmt: skip
    assert ran.code == 1, ran.stderr  # the two invalid rows
    summary = json.loads(ran.stdout)
    assert summary["list_name"] == "Promo" and summary["counts"]["existing"] == 45


def test_a_new_file_is_offered_the_profile_that_fits_it(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    config = page_config(tmp_path, server, profile_dir=None)
    save_profile("Weekly promo", resolve({"file": "x", "list": "Promo", "default-region": "UA",
                 "phone-column": "Phone", "skip-columns": ["City"], "map": {"Email": "Email"},
                 "create-fields": True}, {}, {}))  # fmt: skip
    with page_server(config) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        offer = page.inner_text(".flash.offer")
        assert "Weekly promo" in offer and "fits this file" in offer
        shot(page, shots, "06-profile-offered")
        with page.expect_navigation():
            page.click("text=Use it")
        assert page.input_value("#list_name") == "Promo"
        assert page.input_value("#role-2") == "skip" and page.input_value("#role-4") == "new"


def test_reload_mid_import_then_stop_and_resume_from_history(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    phones = ukrainian_mobiles(800)
    source = write_contacts_csv(tmp_path / "big list.csv", phones)
    sandbox.faults = Faults(latency=0.02)
    config = page_config(tmp_path, server, base={"concurrency": 2})
    with page_server(config) as (url, _):
        upload(page, url, source)
        page.fill("#list_name", "Big")
        page.click("#import")
        page.wait_for_url("**/jobs/**")
        progressed(page, 50)
        shot(page, shots, "07-progress")
        page.reload()  # the run goes on without the page
        assert page.inner_text("#state") == "running"
        progressed(page, done(page) + 50)
        page.click("#stop")
        page.wait_for_function("document.getElementById('state').textContent === 'stopped'")
        assert "Resume sends them" in page.inner_text(".flash.warn")
        shot(page, shots, "08-stopped")
        created_before = len(phones_in(sandbox))
        assert 0 < created_before < len(phones)

        page.goto(url + "/#history")
        row = page.locator("#history tbody tr", has_text="big list.csv")
        assert "interrupted" in row.inner_text()
        shot(page, shots, "09-history")
        row.locator("button", has_text="Resume").click()
        page.wait_for_url("**/jobs/**")
        progressed(page, created_before + 20)
        server.outage(8)  # BSG goes away for a while: the page says the run is waiting
        page.wait_for_selector("#waiting:not([hidden])")
        shot(page, shots, "10-waiting")
        page.wait_for_selector("#summary")
        assert "Created\t800" in page.inner_text("#summary")
    assert sorted(phones_in(sandbox)) == sorted(phones)  # every phone created exactly once


def test_an_import_that_waits_for_hlr_results(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    sandbox.account.hlr = HlrModel(delay=3.0)
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        page.fill("#list_name", "Promo")
        page.select_option("#default_region", "UA")
        page.check("#wait_hlr")
        page.fill("#wait_hlr_s", "60")
        page.click("#import")
        page.wait_for_selector("#hlr-waiting:not([hidden])")
        assert re.fullmatch(r"waiting for HLR: \d+ of 45", page.inner_text("#hlr-waiting"))
        assert page.is_hidden("#waiting")  # not "waiting for BSG"
        shot(page, shots, "11-waiting-for-hlr")
        page.wait_for_selector("#summary")
        reachable = page.inner_text("#reachable")
        shot(page, shots, "12-reachable")
        with page.expect_download() as results:
            page.click("#download-results")
        workbook = tmp_path / "downloaded.xlsx"
        results.value.save_as(workbook)
    created = [r for r in sheet_rows(workbook) if r["Status"] == "created"]
    assert len(created) == 45 and all(r["Reachable (HLR)"] in FINAL_HLR for r in created)
    active = sum(r["Reachable (HLR)"] == "active" for r in created)
    assert f"{active / 45:.0%} of the numbers checked ({active} of 45 active)" in reachable


def done(page: Page) -> int:
    return int(page.get_attribute("#progress", "value") or 0)


def progressed(page: Page, rows: int) -> None:
    page.wait_for_function(f"document.getElementById('progress').value >= {rows}")
