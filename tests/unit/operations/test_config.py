"""The operator's configuration: defaults, the file, the environment, and located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from redirection_bot.errors import ConfigError
from redirection_bot.operations.config import (
    BrandingSettings,
    LimitSettings,
    Settings,
    StoreSettings,
    read_settings,
)
from redirection_bot_connectors.console import ConsoleOptions


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        read_settings(write(tmp_path, text), environ or {})
    return str(raised.value).replace(str(tmp_path) + "/", "").splitlines()


def test_no_file_runs_the_web_chat_with_defaults() -> None:
    settings = read_settings(None, {})
    assert [c.name for c in settings.enabled_connectors()] == ["webchat"]
    options = settings.connector("webchat").options  # type: ignore[union-attr]
    assert options.host == "127.0.0.1" and options.port == 8080
    assert options.limits == LimitSettings() and options.branding == BrandingSettings()
    assert settings.store == StoreSettings() and settings.source is None


def test_a_whole_file(tmp_path: Path) -> None:
    settings = read_settings(
        write(
            tmp_path,
            """\
            connectors:
              webchat:
                host: 0.0.0.0
                port: 9000
                allowed_origins: [https://partner.example]
              console:
                enabled: false
                json: true
            store:
              session_ttl_minutes: 60
            limits:
              messages_per_minute: 12
              max_sessions: 500
            handoff: {}
            branding:
              exit_url: https://www.example.org/
              accent_color: "#004466"
            """,
        ),
        {},
    )
    webchat = settings.connector("webchat")
    assert webchat is not None and webchat.enabled
    assert webchat.options.port == 9000 and webchat.options.host == "0.0.0.0"
    assert webchat.options.allowed_origins == ("https://partner.example",)
    assert webchat.options.limits == LimitSettings(messages_per_minute=12, max_sessions=500)
    assert webchat.options.branding.exit_url == "https://www.example.org/"
    console = settings.connector("console")
    assert console is not None and not console.enabled
    assert console.options == ConsoleOptions(json=True)  # read by the connector's own schema
    assert settings.store.session_ttl_minutes == 60
    assert [c.name for c in settings.enabled_connectors()] == ["webchat"]


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "limits:\n  max_sessions: 10\n")
    settings = read_settings(
        path,
        {
            "REDIRECTION_BOT_LIMITS__MAX_SESSIONS": "20",
            "REDIRECTION_BOT_CONNECTORS__WEBCHAT__PORT": "9100",
            "REDIRECTION_BOT_DIALOGUES": "elsewhere",  # not configuration: ignored here
            "HOME": "/root",
        },
    )
    assert settings.limits.max_sessions == 20
    assert settings.connector("webchat").options.port == 9100  # type: ignore[union-attr]


def test_unknown_fields_are_located_with_a_suggestion(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        limits:
          max_sesions: 10
        brandng: {}
        connectors:
          webchat:
            prot: 80
        """,
    )
    assert found == [
        "config.yaml:2:3: error: `max_sesions` is not a field of the `limits` section "
        "(did you mean `max_sessions`?)",
        "config.yaml:3:1: error: `brandng` is not a field of the configuration "
        "(did you mean `branding`?)",
        "config.yaml:6:5: error: `prot` is not a field of the `webchat` connector's options "
        "(did you mean `port`?)",
    ]


def test_wrong_values_are_located(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        connectors:
          webchat:
            port: seventy
            rest: maybe
        store:
          backend: sqlit
        limits:
          messages_per_minute: 0
        branding:
          exit_url: javascript:alert(1)
          accent_color: "#dddddd"
        """,
    )
    assert found[0] == "config.yaml:3:11: error: `port` should be a whole number, not `seventy`"
    assert found[1] == "config.yaml:4:11: error: `rest` should be true or false, not `maybe`"
    assert found[2].startswith("config.yaml:6:12: error: `backend` cannot be `sqlit`")
    assert "(did you mean `sqlite`?) (known: memory, sqlite, redis)" in found[2]
    assert found[3] == "config.yaml:8:24: error: `messages_per_minute` must be 1 or more"
    assert found[4].startswith("config.yaml:10:13: error: `exit_url` must be a path")
    assert found[5].startswith("config.yaml:11:18: error: `accent_color` gives white text")


def test_unknown_connectors_and_nothing_enabled(tmp_path: Path) -> None:
    assert problems(tmp_path, "connectors:\n  webchta: {}\n")[0].startswith(
        "config.yaml:2:3: error: there is no connector called `webchta` (did you mean `webchat`?)"
    )
    assert problems(tmp_path, "connectors:\n  webchat:\n    enabled: false\n") == [
        "config.yaml:2:3: error: no connector is enabled, so nothing would run"
    ]


def test_a_mistyped_environment_variable_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, "{}\n", {"REDIRECTION_BOT_LIMITS__MAX_SESION": "5"})
    assert found == [
        "$REDIRECTION_BOT_LIMITS__MAX_SESION:1:1: error: `max_sesion` is not a field of the "
        "`limits` section (did you mean `max_sessions`?)"
    ]


def test_yaml_problems_are_located(tmp_path: Path) -> None:
    assert problems(tmp_path, "limits:\n  max_sessions: 1\n  max_sessions: 2\n") == [
        "config.yaml:3:3: error: `max_sessions` appears twice here (first at line 2); "
        "YAML would silently keep only the last one"
    ]
    assert problems(tmp_path, "- a list\n") == [
        "config.yaml:1:1: error: the configuration should be a set of named fields, but this "
        "is a list"
    ]


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read this file"):
        read_settings(tmp_path / "absent.yaml", {})


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().limits.max_sessions = 3  # type: ignore[misc]


def test_a_connectors_own_checks_run_when_the_file_is_read(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
connectors:
  matrix:
    homeserver: https://matrix.helpline.example/
    user_id: "@bot:helpline.example"
    access_token: syt_bot_token
    encryption: false
    state_dir: /var/lib/redirection-bot/matrix
""",
    )
    assert len(found) == 1
    assert found[0].startswith("config.yaml:2:3: error: connectors.matrix.session_key: ")
    assert "a secret of at least 16 characters is needed" in found[0]
