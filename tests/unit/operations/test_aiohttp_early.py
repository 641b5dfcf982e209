"""aiohttp imported for a starting ``serve`` with its certificates put aside
(operations/aiohttp_early.py): once ``serve`` has waited for them, aiohttp's TLS contexts trust
exactly what they would have trusted had aiohttp read them itself (the one that verifies
nothing reads none), and nothing else in the process is changed; a start where nothing
connects out never reads them, and its contexts trust no server. Each case runs in a fresh
interpreter: this one has aiohttp imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from redirection_bot.commands.serve import connects_out
from redirection_bot.operations.config import ConnectorSettings, Settings, read_settings

A_START = """
import json, ssl
from redirection_bot.operations import aiohttp_early
reading_as_python_does = ssl.SSLContext.set_default_verify_paths
aiohttp_early.import_aiohttp()
import aiohttp.connector as connector
seen = {"method_restored": ssl.SSLContext.set_default_verify_paths is reading_as_python_does}
seen["unread"] = aiohttp_early.certificates_unread()
seen["before"] = connector._SSL_CONTEXT_VERIFIED.cert_store_stats()
aiohttp_early.wait_for_certificates()
seen["unread_after"] = aiohttp_early.certificates_unread()
aiohttp_early.wait_for_certificates()  # a second wait returns at once
seen["verified"] = connector._SSL_CONTEXT_VERIFIED.cert_store_stats()
seen["unverified"] = connector._SSL_CONTEXT_UNVERIFIED.cert_store_stats()
seen["python_default"] = ssl.create_default_context().cert_store_stats()
seen["verify_mode"] = int(connector._SSL_CONTEXT_VERIFIED.verify_mode)
seen["unverified_mode"] = int(connector._SSL_CONTEXT_UNVERIFIED.verify_mode)
print(json.dumps(seen))
"""


def test_aiohttps_contexts_trust_what_the_system_trusts_once_waited_for() -> None:
    done = subprocess.run(
        [sys.executable, "-c", A_START], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(done.stdout)
    assert seen["method_restored"]
    # nothing read until a start says something connects out: the context trusts no server
    assert seen["unread"] and seen["before"]["x509_ca"] == 0
    assert not seen["unread_after"]
    assert seen["verified"] == seen["python_default"]
    # the context for ``ssl=False`` verifies nothing, so its certificates are not read
    assert seen["unverified_mode"] == 0  # CERT_NONE
    assert seen["unverified"]["x509_ca"] == 0
    assert seen["verify_mode"] == 2  # CERT_REQUIRED: still checks a server's certificate


def test_waiting_without_a_start_returns_at_once() -> None:
    from redirection_bot.operations import aiohttp_early

    aiohttp_early.import_aiohttp()  # aiohttp is imported already here: nothing to do
    aiohttp_early.wait_for_certificates()


def _settings(config: str, tmp_path: Path) -> Settings:
    file = tmp_path / "bot.yaml"
    file.write_text(config, encoding="utf-8")
    return read_settings(file, {})


def test_the_web_chat_alone_connects_out_nowhere(tmp_path: Path) -> None:
    assert not connects_out(_settings("limits: {max_sessions: 50}\n", tmp_path))


def test_a_helplines_webhook_and_a_matrix_connector_connect_out(tmp_path: Path) -> None:
    webhook = (
        "handoff:\n  services:\n    helpline:\n      channel: webhook\n"
        "      options: {url: 'https://helpline.example/in', secret: '%s'}\n" % ("s" * 40)
    )
    assert connects_out(_settings(webhook, tmp_path))
    matrix = Settings(connectors=(ConnectorSettings("webchat"), ConnectorSettings("matrix")))
    assert connects_out(matrix)
