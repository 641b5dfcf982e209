"""In CI (or with the variable below set) a test of a real component fails instead of skipping
(``tests/fixtures/components.py``), so that "all passed" means every component was tried."""

from __future__ import annotations

import pytest

from tests.helpers import REQUIRE_COMPONENTS

TESTS = """
import pytest

@pytest.mark.redis
def test_needs_redis():
    pytest.skip("redis-server is not installed")

@pytest.fixture
def synapse():
    pytest.skip("Synapse is not installed")

def test_uses_synapse(synapse):
    pass

@pytest.mark.browser
@pytest.mark.on_request
@pytest.mark.skipif(True, reason="only to make the docs' pictures")
def test_screenshots():
    pass

def test_plain():
    pytest.skip("not a component")
"""
MARKERS = """
[pytest]
asyncio_default_fixture_loop_scope = function
markers =
    redis: x
    matrix: x
    browser: x
    on_request: x
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(REQUIRE_COMPONENTS, raising=False)
    pytester.makeini(MARKERS)
    pytester.makepyfile(test_components=TESTS)
    return pytester


def test_a_developer_run_skips_what_is_missing(run: pytest.Pytester) -> None:
    result = run.runpytest("-p", "tests.fixtures.components")
    result.assert_outcomes(skipped=4)


@pytest.mark.parametrize("variable", [REQUIRE_COMPONENTS, "CI"])
def test_a_required_run_fails_every_skipped_component_test(
    run: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "1")
    result = run.runpytest("-p", "tests.fixtures.components", "-rA")
    result.assert_outcomes(failed=1, errors=1, skipped=2)  # the fixture's skip: an error
    result.stdout.fnmatch_lines(
        [
            "*test_uses_synapse needs a real component but skipped*Synapse*",
            "*test_needs_redis needs a real component but skipped*redis-server*",
        ]
    )
    assert result.ret != 0
