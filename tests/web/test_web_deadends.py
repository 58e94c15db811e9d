"""No dead end on the page (issue 21, items 4-10), each tried in Debian's chromium: every
page says what is true now and offers the next step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from playwright.sync_api import Page

from importer.runs.history import read_past
from importer.sandbox import Faults

from ..conftest import sheet_rows
from ..helpers import SAMPLE_XLSX, phones_in, state_of, ukrainian_mobiles, write_contacts_csv
from ..web_helpers import page_config, page_server
from ..web_look import browser, look, page, shots, upload

__all__ = ["browser", "page", "shots"]


def test_a_phone_column_not_recognised_is_offered_to_choose(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    source = tmp_path / "clients.csv"
    source.write_text(
        "Client,Contact,Town\nOlena,+380501234567,Kyiv\nPetro,+380672345678,Lviv\n"
        "Iryna,+380931112233,Odesa\n",
        encoding="utf-8",
    )
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, source)
        shown = look(page, shots, "4-choose-phone-column")
        assert "Which column holds them?" in shown
        first = page.locator("#phone-choices tbody tr").first
        assert "Contact" in first.inner_text() and "+380501234567" in first.inner_text()
        with page.expect_navigation():
            first.locator("button").click()
        assert page.input_value("#role-1") == "phone"
        verdicts = page.locator("td.verdict").all_inner_texts()
        assert verdicts == ["+380501234567", "+380672345678", "+380931112233"]
        look(page, shots, "4-phone-column-chosen")


def test_a_failed_import_links_back_and_names_the_empty_list_it_left(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    source = tmp_path / "shop.csv"
    source.write_text("Phone,Shop\n+380501234567,Kyiv\n+380672345678,Lviv\n", encoding="utf-8")
    sandbox.faults = Faults(forbidden_rate=1.0, fault_endpoint="POST /api/contacts/fields")
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, source)
        page.fill("#list_name", "Shops")
        with page.expect_navigation():
            page.select_option("#role-1", "new")  # a new field: the server refuses it
        page.click("#import")
        page.wait_for_selector("#left-list")
        shown = look(page, shots, "5-import-failed")
        assert "created the list Shops and left it empty" in shown
        assert [g["name"] for g in state_of(sandbox)["groups"]] == ["Shops"]
        page.click("#back-to-mapping")
        page.wait_for_url("**/file/**")
        assert page.input_value("#list_name") == "Shops" and page.input_value("#role-1") == "new"

        page.goto(url + "/#history")
        left = page.locator("#history .left-list")
        assert "shop.csv created the list Shops and left it empty" in left.inner_text()
        look(page, shots, "5-history-empty-list")
        with page.expect_navigation():
            left.locator("button", has_text="Remove the empty list").click()
        assert "The empty list 'Shops' was removed." in look(page, shots, "5-list-removed")
        assert state_of(sandbox)["groups"] == []
        assert page.locator("#history .left-list").count() == 0


def test_a_check_revisited_after_its_import_says_what_is_true_now(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        page.fill("#list_name", "Promo")
        page.select_option("#default_region", "UA")
        page.click("#check")
        page.wait_for_selector("#problems")
        check_url = page.url
        page.click("#import")
        page.wait_for_selector("#summary")
        assert "Created\t45" in page.inner_text("#summary")
        page.goto(check_url)
        shown = look(page, shots, "6-check-after-import")
        assert "Invalid\t2" in page.inner_text("#summary")
        assert page.locator("#problems tbody tr").count() == 2
        assert "every row can be imported" not in shown
        assert "imported since this check" in page.inner_text("#imported-since")
        assert page.locator("#import").count() == 0
        with page.expect_download() as results:
            page.click("#download-results")
        results.value.save_as(tmp_path / "check.xlsx")
        assert len(sheet_rows(tmp_path / "check.xlsx")) == 48


def test_a_check_that_failed_says_so_and_offers_no_import(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    config = page_config(tmp_path, server, base={"api_key": "live_wrong_key"})
    with page_server(config) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        page.fill("#list_name", "Promo")
        page.click("#check")
        page.wait_for_selector("#state:text('failed')")
        shown = look(page, shots, "6-check-failed")
        assert "every row can be imported" not in shown
        assert page.locator("#import").count() == 0
        page.click("#back-to-mapping")
        page.wait_for_url("**/file/**")


def test_a_second_tab_importing_the_same_file_opens_the_running_import(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    phones = ukrainian_mobiles(600)
    source = write_contacts_csv(tmp_path / "big list.csv", phones)
    sandbox.faults = Faults(latency=0.02)
    config = page_config(tmp_path, server, base={"concurrency": 2})
    with page_server(config) as (url, _):
        upload(page, url, source)
        page.fill("#list_name", "Big")
        page.click("#import")
        page.wait_for_url("**/jobs/**")
        first = page.url
        second = page.context.new_page()
        upload(second, url, source)
        second.fill("#list_name", "Big")
        second.click("#import")
        second.wait_for_url("**/jobs/**")
        assert second.url == first
        assert second.inner_text("#state") == "running"
        look(second, shots, "7-second-tab")
        second.wait_for_selector("#summary")
        assert "Created\t600" in second.inner_text("#summary")
    assert sorted(phones_in(sandbox)) == sorted(phones)


def test_history_shows_an_undone_import_as_undone(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, SAMPLE_XLSX)
        page.fill("#list_name", "Promo")
        page.select_option("#default_region", "UA")
        page.click("#import")
        page.wait_for_selector("#summary")
        page.goto(url + "/#history")
        row = page.locator("#history tbody tr", has_text="contacts.xlsx")
        row.locator("a", has_text="Undo").click()
        page.click("#confirm-undo")
        page.wait_for_selector("#summary")
        page.goto(url + "/#history")
        shown = look(page, shots, "8-history-undone")
        row = page.locator("#history tbody tr").first
        assert "undone" in row.inner_text() and "finished" not in row.inner_text()
        assert row.locator("a", has_text="Undo").count() == 0
        assert "already gone" not in shown
    assert state_of(sandbox)["contacts"] == []


def test_a_stopped_import_counts_as_history_does_and_resumes_from_its_page(
    tmp_path: Path, server: Any, sandbox: Any, page: Page, shots: Path
) -> None:
    phones = ukrainian_mobiles(600)
    source = write_contacts_csv(tmp_path / "big list.csv", phones)
    sandbox.faults = Faults(latency=0.02)
    config = page_config(tmp_path, server, base={"concurrency": 2})
    with page_server(config) as (url, _):
        upload(page, url, source)
        page.fill("#list_name", "Big")
        page.click("#import")
        page.wait_for_url("**/jobs/**")
        page.wait_for_function("document.getElementById('progress').value >= 50")
        page.click("#stop")
        page.wait_for_selector("#resume")
        look(page, shots, "10-stopped")
        summary = page.inner_text("#summary")
        not_sent = int(page.inner_text("#not-sent td").replace(",", ""))
        assert "Failed\t0" in summary and 0 < not_sent < 600
        assert f"{not_sent:,}" in page.inner_text("#resume")
        [journal] = (tmp_path / "journals").glob("*.sqlite")
        started = read_past(journal).started  # type: ignore[union-attr]
        page.goto(url + "/#history")
        row = page.locator("#history tbody tr", has_text="big list.csv").inner_text()
        assert "interrupted" in row and "\t0\t" in row  # Failed 0 here too
        page.go_back()
        page.click("#resume")
        page.wait_for_selector("#summary")
        assert "Created\t600" in page.inner_text("#summary")
        assert read_past(journal).started == started  # type: ignore[union-attr]
    assert sorted(phones_in(sandbox)) == sorted(phones)


def test_a_sheet_chosen_without_a_phone_column_offers_its_columns(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    source = tmp_path / "two sheets.xlsx"
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Contacts"
    first.append(["Phone", "Name"])
    first.append(["+380501234567", "Olena"])
    other = book.create_sheet("Partners")
    other.append(["Partner", "Contact"])
    other.append(["Kyivstar shop", "+380672345678"])
    book.save(source)
    with page_server(page_config(tmp_path, server)) as (url, _):
        upload(page, url, source)
        with page.expect_navigation():
            page.select_option("#sheet", "Partners")
        page.wait_for_selector("#phone-choices")
        look(page, shots, "4-sheet-without-phone-column")
        assert page.input_value("#sheet") == "Partners"
        row = page.locator("#phone-choices tbody tr", has_text="Contact")
        assert "+380672345678" in row.inner_text()
        with page.expect_navigation():
            row.locator("button").click()
        assert page.input_value("#sheet") == "Partners" and page.input_value("#role-1") == "phone"
        assert page.locator("td.verdict").all_inner_texts() == ["+380672345678"]
