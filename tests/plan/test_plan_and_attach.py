"""The list found or made despite a race, existing contacts attached in bulk, Excel's row limit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx

from importer import Settings, run_import
from importer.sandbox import Sandbox

from ..conftest import sheet_rows
from ..helpers import phones_in, run_cli, state_of, ukrainian_mobiles, write_contacts_csv


class ListAppearsMeanwhile(httpx.BaseTransport):
    """Another run creates the list between this run's search and its create."""

    def __init__(self, sandbox: Sandbox, name: str) -> None:
        self.inner = sandbox.transport()
        self.sandbox = sandbox
        self.name = name
        self.raced = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/groups" and not self.raced:
            self.raced = True
            with self.sandbox.account.lock:
                self.sandbox.account.add_group(self.name, None, False)
        return self.inner.handle_request(request)


def _settings(tmp_path: Path, source: Path) -> Settings:
    return Settings(
        file=source,
        list_name="Promo",
        base_url="http://sandbox.invalid",
        api_key="live_sandbox",
        journal_dir=tmp_path / "j",
    )


def test_a_list_created_meanwhile_by_another_run_is_used(tmp_path: Path, sandbox: Sandbox) -> None:
    phones = ukrainian_mobiles(20)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    transport = ListAppearsMeanwhile(sandbox, "Promo")
    summary = run_import(_settings(tmp_path, source), transport=transport)
    assert transport.raced
    assert summary.exit_code == 0 and summary.counts["created"] == 20
    groups = [g for g in state_of(sandbox)["groups"] if g["name"] == "Promo"]
    assert len(groups) == 1 and summary.list_id == groups[0]["id"]
    contacts = state_of(sandbox)["contacts"]
    assert all(c["groups"] == [groups[0]["id"]] for c in contacts) and len(contacts) == 20


def test_existing_contacts_are_attached_in_batches(tmp_path: Path, sandbox: Sandbox) -> None:
    phones = ukrainian_mobiles(260)
    with sandbox.account.lock:
        for phone in phones[:250]:
            sandbox.account.add_contact(phone, [], {})
    source = write_contacts_csv(tmp_path / "c.csv", phones, extra=False)
    summary = run_import(_settings(tmp_path, source), transport=sandbox.transport())
    assert summary.counts["existing"] == 250 and summary.counts["created"] == 10
    state = state_of(sandbox)
    attaches = [e for e in state["log"] if e["path"] == "/api/groups/attach"]
    assert 3 <= len(attaches) <= 10  # batches of up to 100, not one call a contact
    promo = next(g["id"] for g in state["groups"] if g["name"] == "Promo")
    assert all(promo in c["groups"] for c in state["contacts"])
    rows = sheet_rows(tmp_path / "c.results.xlsx")
    book = phones_in(sandbox)
    assert all(r["contact_id"] == book[r["phone_normalized"]] for r in rows)


def test_more_rows_than_an_excel_sheet_holds_is_refused_before_anything(tmp_path: Path) -> None:
    source = tmp_path / "huge.csv"
    source.write_text("Phone\n" + "+380501234567\n" * 1_048_576, encoding="utf-8")
    ran = run_cli(source, "--list", "Promo", "--dry-run")
    assert ran.code == 2
    assert "1,048,576 rows, more than an Excel sheet holds (1,048,575)" in ran.last_line
    assert "--output results.csv" in ran.last_line
    assert not (tmp_path / "huge.results.xlsx").exists()


class AttachAnswersLost(httpx.BaseTransport):
    """Every attach is carried out, then the connection drops before the answer."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.inner = sandbox.transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if request.url.path == "/api/groups/attach":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        return answer


def test_a_contact_the_run_attached_is_never_taken_for_one_it_created_or_found_in_the_list(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Run 1 attaches two existing contacts but never hears back, so it reports them failed;
    run 2 finds them in the list. They existed before: `existing`, and without the note
    that would keep undo from detaching them. A third contact really was in the list."""
    phones = ukrainian_mobiles(4)
    with sandbox.account.lock:
        promo = sandbox.account.add_group("Promo", None, False)
        for phone in phones[:2]:
            sandbox.account.add_contact(phone, [], {})
        sandbox.account.add_contact(phones[2], [promo.id], {})
    source = write_contacts_csv(tmp_path / "c.csv", phones, extra=False)
    settings = replace(_settings(tmp_path, source), max_attempts=2, patience=1.0)
    first = run_import(settings, transport=AttachAnswersLost(sandbox))
    assert first.counts["failed"] == 2
    assert all(promo.id in c["groups"] for c in state_of(sandbox)["contacts"])

    run_import(settings, transport=sandbox.transport())
    rows = {r["phone_normalized"]: r for r in sheet_rows(tmp_path / "c.results.xlsx")}
    assert [rows[p]["status"] for p in phones] == ["existing", "existing", "existing", "created"]
    assert rows[phones[0]]["error"] is None and rows[phones[1]]["error"] is None
    assert rows[phones[2]]["error"] == "was already in the list before this import"
