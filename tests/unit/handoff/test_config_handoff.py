"""The `handoff:` section of an operator's configuration: services on two channels, with
their languages, time zone, office hours and holidays; and each mistake an operator can make,
reported at file:line:column in words they can act on, all at once, before anything starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from redirection_bot.operations.config import HandoffSettings, read_settings
from tests.unit.operations.test_config import problems, write

SECRET = "0123456789abcdef0123456789abcdef"

TWO_SERVICES = f"""\
handoff:
  claim_timeout_seconds: 240
  notice_interval_seconds: 90
  conversation_lines: 0
  services:
    helpline_fi:
      channel: matrix
      locales: [fi]
      timezone: Europe/Helsinki
      hours:
        mon-fri: "09:00-17:00"
        sat: "22:00-02:00"
      holidays: ["2026-12-24", 2026-12-25]
      options:
        homeserver: https://matrix.helpline.example/
        user_id: "@desk:helpline.example"
        access_token: syt_desk_token
        room: "!operators:helpline.example"
        operators:
          - "@anna:helpline.example = Anna"
          - "@ben:helpline.example = Ben"
        encryption: false
    platform:
      channel: webhook
      locales: [en, es]
      options:
        url: https://platform.helpline.example/redirection-bot
        secret: "{SECRET}"
        port: 8099
"""


def helsinki(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment).replace(tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_two_services_on_two_channels(tmp_path: Path) -> None:
    handoff = read_settings(write(tmp_path, TWO_SERVICES), {}).handoff
    assert handoff.active
    assert handoff.claim_timeout_seconds == 240.0 and handoff.notice_interval_seconds == 90.0
    assert handoff.conversation_lines == 0
    assert handoff.tick_seconds == HandoffSettings().tick_seconds  # unset: the default
    matrix, webhook = handoff.services
    assert (matrix.name, matrix.channel, matrix.locales) == ("helpline_fi", "matrix", ("fi",))
    assert matrix.serves("fi") and not matrix.serves("en")
    assert matrix.options.room == "!operators:helpline.example"
    assert matrix.options.operators == (
        "@anna:helpline.example = Anna",
        "@ben:helpline.example = Ben",
    )
    assert matrix.options.encryption is False
    assert (webhook.name, webhook.channel, webhook.locales) == ("platform", "webhook", ("en", "es"))
    assert webhook.serves("es") and not webhook.serves("fi")
    assert webhook.options.url == "https://platform.helpline.example/redirection-bot"
    assert webhook.options.secret == SECRET and webhook.options.port == 8099
    assert webhook.options.tolerance_seconds == 300.0  # the channel's own default


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-23T09:00", True),  # a Monday in Helsinki, opening time
        ("2026-11-23T17:00", False),
        ("2026-11-28T21:59", False),  # Saturday evening, before the night shift
        ("2026-11-28T23:30", True),  # Saturday night...
        ("2026-11-29T01:59", True),  # ...past midnight into Sunday
        ("2026-11-29T02:00", False),
        ("2026-11-29T12:00", False),  # Sunday: closed
        ("2026-12-24T10:00", False),  # a holiday (a Thursday), written quoted
        ("2026-12-25T10:00", False),  # and written as a plain YAML date
        ("2026-12-28T10:00", True),
    ],
)
def test_the_service_keeps_its_hours_in_its_own_time_zone(
    tmp_path: Path, moment: str, is_open: bool
) -> None:
    matrix, webhook = read_settings(write(tmp_path, TWO_SERVICES), {}).handoff.services
    assert matrix.hours.timezone == "Europe/Helsinki"
    assert matrix.hours.is_open(helsinki(moment)) is is_open
    assert webhook.hours.is_open(helsinki(moment))  # no hours given: always open


def test_the_secret_can_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    without = TWO_SERVICES.replace(f'        secret: "{SECRET}"\n', "")
    variable = "REDIRECTION_BOT_HANDOFF__SERVICES__PLATFORM__OPTIONS__SECRET"
    settings = read_settings(write(tmp_path, without), {variable: SECRET})
    assert settings.handoff.services[1].options.secret == SECRET
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    with_file = TWO_SERVICES.replace(f'secret: "{SECRET}"', f"secret_file: {secret_file}")
    settings = read_settings(write(tmp_path, with_file), {})
    assert settings.handoff.services[1].options.secret == SECRET  # read from the file, once


def test_no_section_means_no_handoff(tmp_path: Path) -> None:
    assert not read_settings(write(tmp_path, "limits: {}\n"), {}).handoff.active
    disabled = TWO_SERVICES.replace("handoff:\n", "handoff:\n  enabled: false\n")
    handoff = read_settings(write(tmp_path, disabled), {}).handoff
    assert len(handoff.services) == 2 and not handoff.active


# --- mistakes -----------------------------------------------------------------------------------

WEBHOOK_OPTIONS = f'options: {{url: "https://platform.example/hooks", secret: "{SECRET}"}}'


def one_service(*lines: str, options: str = WEBHOOK_OPTIONS) -> str:
    body = "".join(f"      {line}\n" for line in (*lines, options) if line)
    return f"handoff:\n  services:\n    helpline:\n{body}"


def test_an_unknown_channel_plug_in(tmp_path: Path) -> None:
    assert problems(tmp_path, one_service("channel: matrx", options="")) == [
        "config.yaml:4:7: error: there is no operator channel called `matrx` "
        "(did you mean `matrix`?) (installed: matrix, webhook)"
    ]


def test_a_service_without_a_channel_or_with_a_bad_name(tmp_path: Path) -> None:
    assert problems(tmp_path, one_service("locales: [en]", options="")) == [
        "config.yaml:4:7: error: the `helpline` service needs a `channel` field"
    ]
    found = problems(tmp_path, "handoff:\n  services:\n    Help-Line: {channel: webhook}\n")
    assert found == [
        "config.yaml:3:5: error: `Help-Line`: name a service with lower-case letters, digits "
        "and `_`, starting with a letter (at most 32)"
    ]


def test_a_time_zone_that_does_not_exist(tmp_path: Path) -> None:
    found = problems(tmp_path, one_service("channel: webhook", "timezone: Europe/Helsinky"))
    assert found == [
        "config.yaml:5:17: error: the `helpline` service: `Europe/Helsinky` is not a time zone "
        "name such as Europe/Helsinki"
    ]


def test_hours_that_cannot_be_read_are_each_located(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        one_service(
            "channel: webhook",
            "timezone: Europe/Helsinki",
            "hours:",
            '  mon-fri: "9-17"',
            '  sat: "22:00-25:00"',
            '  sunday: "10:00-14:00"',
            '  tue: "24:30-02:00"',
        ),
    )
    assert found == [
        "config.yaml:7:19: error: the `helpline` service: `9-17`: write hours as 09:00-17:00",
        "config.yaml:8:15: error: the `helpline` service: `22:00-25:00` is not a time of day",
        "config.yaml:9:9: error: the `helpline` service: `sunday`: write days as mon, tue, ... "
        "or a range such as mon-fri",
        "config.yaml:10:15: error: the `helpline` service: `24:30-02:00` is not a time of day",
    ]


def test_holidays_that_are_not_dates(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        one_service("channel: webhook", 'holidays: ["2026-12-24", "24.12.2026", 2026-02-30]'),
    )
    assert found == [
        "config.yaml:5:33: error: the `helpline` service: `24.12.2026` is not a date: "
        "write holidays as YYYY-MM-DD",
        "config.yaml:5:46: error: the `helpline` service: `2026-02-30` is not a date: "
        "write holidays as YYYY-MM-DD",
    ]


def test_unknown_keys_at_every_level_with_suggestions(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        handoff:
          claim_timeout: 30
          services:
            helpline:
              channel: webhook
              timezon: Europe/Helsinki
              options:
                url: https://platform.example/hooks
                secret: "{SECRET}"
                sekret_file: /run/secrets/webhook
        """,
    )
    assert found == [
        "config.yaml:2:3: error: `claim_timeout` is not a field of the `handoff` section "
        "(did you mean `claim_timeout_seconds`?)",
        "config.yaml:6:7: error: `timezon` is not a field of the `helpline` service "
        "(did you mean `timezone`?)",
        "config.yaml:10:9: error: `sekret_file` is not a field of the `webhook` operator "
        "channel's options (did you mean `secret_file`?)",
    ]


@pytest.mark.parametrize("value", ["0", "-30"])
def test_a_claim_timeout_must_be_above_zero(tmp_path: Path, value: str) -> None:
    assert problems(tmp_path, f"handoff:\n  claim_timeout_seconds: {value}\n") == [
        "config.yaml:2:26: error: `claim_timeout_seconds` must be above 0"
    ]
    assert problems(tmp_path, "handoff:\n  claim_timeout_seconds: soon\n") == [
        "config.yaml:2:26: error: `claim_timeout_seconds` should be a number, not `soon`"
    ]


@pytest.mark.parametrize(
    "options",
    [
        'options: {url: "https://platform.example/hooks"}',  # no secret at all
        'options: {url: "https://platform.example/hooks", secret: "too short"}',
    ],
)
def test_a_webhook_needs_a_long_enough_secret(tmp_path: Path, options: str) -> None:
    found = problems(tmp_path, one_service("channel: webhook", options=options))
    assert found == [
        "config.yaml:5:7: error: handoff.services.helpline.options.secret: a shared secret of "
        "at least 32 characters is needed "
        "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    ]
    assert "too short" not in "\n".join(found)  # the secret itself is never shown


def test_a_webhook_needs_the_platforms_address(tmp_path: Path) -> None:
    found = problems(tmp_path, one_service("channel: webhook", options=""))
    assert found == [
        "config.yaml:4:7: error: handoff.services.helpline.options.url: give the platform's "
        "address, https://..."
    ]


def test_a_secret_file_that_cannot_be_read(tmp_path: Path) -> None:
    options = f"options: {{url: https://platform.example/hooks, secret_file: {tmp_path}/none}}"
    (found,) = problems(tmp_path, one_service("channel: webhook", options=options))
    assert found == (
        "config.yaml:5:7: error: handoff.services.helpline.options.secret_file: cannot read "
        "none: No such file or directory"  # (the folder of the test is left out here)
    )


def test_a_wrongly_typed_option_is_reported_once(tmp_path: Path) -> None:
    """The type is wrong; the channel's own checks of the defaults would only confuse."""
    options = "options: {url: https://platform.example/hooks, secret: 12, port: http}"
    assert problems(tmp_path, one_service("channel: webhook", options=options)) == [
        "config.yaml:5:72: error: `port` should be a whole number, not `http`"
    ]


MATRIX = """\
handoff:
  services:
    helpline:
      channel: matrix
      options:
        homeserver: https://matrix.helpline.example
        user_id: "@desk:helpline.example"
        access_token: syt_desk_token
        room: "{room}"
        operators: ["{operator}"]
        encryption: false
"""


def test_a_matrix_room_must_be_given_by_its_id(tmp_path: Path) -> None:
    text = MATRIX.format(room="#operators:helpline.example", operator="@anna:h.example = Anna")
    assert problems(tmp_path, text) == [
        "config.yaml:5:7: error: handoff.services.helpline.options.room: give the room's id, "
        "which starts with ! (Room settings, Advanced)"
    ]


@pytest.mark.parametrize("operator", ["anna = Anna", "@anna:helpline.example"])
def test_a_matrix_allow_list_entry_must_be_a_user_and_a_name(tmp_path: Path, operator: str) -> None:
    text = MATRIX.format(room="!operators:helpline.example", operator=operator)
    assert problems(tmp_path, text) == [
        f"config.yaml:5:7: error: handoff.services.helpline.options.operators: `{operator}` "
        "should be a user id and the name the person is told (at most 40 characters): "
        '"@anna:example.org = Anna"'
    ]


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    broken = (
        TWO_SERVICES.replace("Europe/Helsinki", "Europe/Helsinky")
        .replace(f'secret: "{SECRET}"', 'secret: "short"')
        .replace("claim_timeout_seconds: 240", "claim_timeout_seconds: 0")
    )
    found = problems(tmp_path, broken)
    assert [line.split(": error: ")[0] for line in found] == [
        "config.yaml:2:26",
        "config.yaml:9:17",
        "config.yaml:26:7",
    ]


def test_settings_printed_for_debugging_show_no_secret() -> None:
    from redirection_bot.operations.config import ConnectorSettings, ServiceSettings

    secret = "a webhook secret that must never be printed"
    service = ServiceSettings("helpline", "webhook", options={"secret": secret})
    connector = ConnectorSettings("matrix", options={"access_token": secret})
    assert secret not in repr(service) and secret not in repr(connector)
