"""No dead end on the page (issue 21, items 4-10), each tried in Debian's chromium: every
page says what is true now and offers the next step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from importer.sandbox import Faults

from .helpers import state_of
from .web_helpers import page_config, page_server
from .web_look import browser, look, page, shots, upload

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
