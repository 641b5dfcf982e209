"""The bot as operators run it (``redirection-bot serve --config``), killed mid-conversation:
every message sent meanwhile is answered once, and its logs carry no Matrix id."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.synapse import SynapseServer
from tests.helpers import async_wait_until, bot_command
from tests.integration.matrix.conftest import bot_options
from tests.integration.matrix.people import Person
from tests.integration.matrix.program import write_matrix_program

pytestmark = [pytest.mark.matrix, pytest.mark.slow]


class BotProcess:
    """``redirection-bot -v serve --config FILE`` with the Matrix connector and a SQLite store."""

    def __init__(self, folder: Path, options: dict[str, Any]) -> None:
        self.folder = folder
        self.user_id: str = options["user_id"]
        sources = write_matrix_program(folder / "program")
        self.program = ["--dialogues", str(sources.dialogues), "--locales", str(sources.locales)]
        self.config = folder / "bot.yaml"
        key = base64.b64encode(os.urandom(32)).decode()
        self.config.write_text(
            yaml.safe_dump(
                {
                    "connectors": {"matrix": options},
                    "admin": {"port": 0},  # metrics on any free port
                    "store": {
                        "backend": "sqlite",
                        "path": str(folder / "sessions.sqlite3"),
                        "keys": [key],
                    },
                }
            )
        )
        self.log = folder / "bot.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [*bot_command(), "-v", "serve", "--config", str(self.config), *self.program],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(10)
        self._process = None

    def stop(self) -> int:
        if self._process is None:
            return 0
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(30)
        finally:
            self._process = None

    def turns_handled(self) -> int:
        return self.log.read_text().count("turn handled") if self.log.exists() else 0

    def check_alive(self) -> None:
        assert self._process is not None
        status = self._process.poll()
        assert status is None, f"the bot exited ({status}): {self.log.read_text()[-2000:]}"


@pytest.fixture
def bot_process(synapse: SynapseServer, tmp_path: Path) -> Any:
    process = BotProcess(tmp_path, bot_options(synapse, tmp_path))
    yield process
    process.stop()


async def test_a_killed_bot_answers_each_message_sent_meanwhile_exactly_once(
    synapse: SynapseServer,
    bot_process: BotProcess,
    people: Callable[[SynapseServer], Person],
) -> None:
    bot_process.start()
    person = people(synapse)
    await person.open_chat(bot_process.user_id, encrypted=True)
    await person.replies(1)
    assert (await person.answer_to("2")).body.startswith("From 0 to 10")
    bot_process.check_alive()

    # Killed as the first of three messages arrives (before, during or after its turn).
    before = len(person.received)
    await person.say("eleven")
    bot_process.kill()
    await person.say("twelve")
    await person.say("7")
    bot_process.start()

    answers = (await person.replies(before + 3))[before:]
    assert answers[-1].body == "In a few words, why does it matter to you?"
    assert all(a.body.startswith(("Please give a number", "From 0 to 10")) for a in answers[:2])
    # Nothing more came for those three; killed again just after its next turn was handled
    # (as its reply is kept, recorded or sent), the bot answers that message once, with the
    # plan, even if it died between saving the turn and recording the reply (docs/matrix.md,
    # "Exactly once").
    turns = bot_process.turns_handled()
    await person.say("for my family")

    async def handled() -> bool:
        return bot_process.turns_handled() > turns

    await async_wait_until(handled, 30, "the bot to handle the turn")
    bot_process.kill()
    bot_process.start()
    answer = (await person.replies(before + 4))[before + 3]
    assert "My reasons: for my family" in answer.body
    file = (await person.replies(before + 5))[before + 4]
    assert file.body == "my-plan.txt" and "My reasons: for my family" in (file.file_text or "")
    ended = await person.answer_to("hello")
    assert ended.body.startswith("The end.")
    assert person.received.index(ended) == before + 5
    bot_process.check_alive()

    assert bot_process.stop() == 0
    log = bot_process.log.read_text()
    assert "matrix connected" in log and "turn handled" in log
    for identifier in (bot_process.user_id, person.user_id, person.room_id, "@", "!"):
        assert identifier not in log
