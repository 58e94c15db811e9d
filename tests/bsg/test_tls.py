"""TLS: certificates are verified, an untrusted one stops the run at once, a company CA works."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from importer.sandbox import Sandbox, serve

from ..helpers import phones_in, run_cli, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(sandbox: Sandbox, authority: trustme.CA) -> Iterator[Any]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with serve(sandbox, tls=context) as server:
        yield server


def test_an_untrusted_certificate_stops_the_run_at_once(tmp_path: Path, tls_server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(3))
    started = time.monotonic()
    ran = run_cli(source, "--list", "Promo", "--base-url", tls_server.url, env=KEY)
    assert ran.code == 3
    assert f"{tls_server.url}: its TLS certificate is not trusted" in ran.last_line
    assert "SSL_CERT_FILE" in ran.last_line
    assert time.monotonic() - started < 15  # not retried for the login's patience
    assert not (tmp_path / "c.results.xlsx").exists()


def test_a_company_ca_in_ssl_cert_file_is_trusted(
    tmp_path: Path, tls_server: Any, sandbox: Sandbox, authority: trustme.CA
) -> None:
    bundle = tmp_path / "company-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    phones = ukrainian_mobiles(5)
    source = write_contacts_csv(tmp_path / "c.csv", phones)
    env = {**KEY, "SSL_CERT_FILE": str(bundle)}
    ran = run_cli(source, "--list", "Promo", "--base-url", tls_server.url, env=env)
    assert ran.code == 0, ran.stderr
    assert sorted(phones_in(sandbox)) == sorted(phones)


def test_a_missing_ssl_cert_file_is_said(tmp_path: Path, tls_server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(1))
    env = {**KEY, "SSL_CERT_FILE": str(tmp_path / "nope.pem")}
    ran = run_cli(source, "--list", "Promo", "--base-url", tls_server.url, env=env)
    assert ran.code == 2
    assert f"SSL_CERT_FILE={tmp_path / 'nope.pem'}: can't read certificates" in ran.last_line
