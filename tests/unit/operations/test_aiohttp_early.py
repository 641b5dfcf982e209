"""aiohttp imported for a starting ``serve`` with its certificates read on a worker thread
(operations/aiohttp_early.py): once ``serve`` has waited for them, aiohttp's TLS contexts trust
exactly what they would have trusted had aiohttp read them itself (the one that verifies
nothing reads none), and nothing else in the
process is changed. Each case runs in a fresh interpreter: this one has aiohttp imported."""

from __future__ import annotations

import json
import subprocess
import sys

A_START = """
import json, ssl
from redirection_bot.operations import aiohttp_early
reading_as_python_does = ssl.SSLContext.set_default_verify_paths
aiohttp_early.import_aiohttp()
import aiohttp.connector as connector
seen = {"method_restored": ssl.SSLContext.set_default_verify_paths is reading_as_python_does}
aiohttp_early.wait_for_certificates()
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
    assert seen["verified"] == seen["python_default"]
    # the context for ``ssl=False`` verifies nothing, so its certificates are not read
    assert seen["unverified_mode"] == 0  # CERT_NONE
    assert seen["unverified"]["x509_ca"] == 0
    assert seen["verify_mode"] == 2  # CERT_REQUIRED: still checks a server's certificate


def test_waiting_without_a_start_returns_at_once() -> None:
    from redirection_bot.operations import aiohttp_early

    aiohttp_early.import_aiohttp()  # aiohttp is imported already here: nothing to do
    aiohttp_early.wait_for_certificates()
