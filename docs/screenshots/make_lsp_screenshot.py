"""Make ``docs/screenshots/lsp-neovim.png``: the language server in a real Neovim.

Nothing here is drawn by hand. The script

1. copies the shipped ``dialogues/`` and ``locales/`` to a temporary folder and puts one
   typo in a flow (``next: goodbye`` becomes ``next: goodby`` in ``flows/menu.yaml``);
2. writes an ``init.lua`` holding exactly the Neovim set-up shown in docs/authoring.md
   (with the full path of this checkout's ``.venv/bin/redirection-bot``);
3. runs the real ``nvim`` (Debian's 0.7.2 here) in a pseudo-terminal of 100 x 34 cells,
   feeding everything it writes to the ``pyte`` VT100 terminal emulator;
4. waits until the server's diagnostics are on the screen, then moves to a text key and
   presses ``K`` (hover) and waits for the hover window;
5. renders pyte's screen (characters, colours, bold, reverse, cursor) to HTML, one cell per
   character, and takes a PNG of it with the system Chromium through Playwright.

If the diagnostics or the hover never appear, it stops with an error and writes nothing.

Needs: ``nvim`` and ``chromium`` on PATH, and in the venv ``pip install -e '.[lsp]' pyte
playwright`` (no ``playwright install``: the system Chromium is used, see RECIPES).

Run from the repository's top folder: ``.venv/bin/python docs/screenshots/make_lsp_screenshot.py``
"""

from __future__ import annotations

import asyncio
import fcntl
import html
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pyte
from playwright.async_api import async_playwright

REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUT = REPOSITORY / "docs" / "screenshots" / "lsp-neovim.png"
COLUMNS, LINES = 100, 34
FLOW = "dialogues/flows/menu.yaml"
TYPO = ("        next: goodbye\n", "        next: goodby\n")
TOP_LINE, HOVER_LINE, HOVER_WORD = 26, 28, "my_plan.title"
DEADLINE = 60.0

# The Neovim set-up of docs/authoring.md, taken from the docs themselves so that the picture
# shows what a reader who copies it gets.
SNIPPET = re.compile(r"```lua\n(vim\.api\.nvim_create_autocmd.*?)```", re.S)

# xterm's default 16 colours (pyte names them; "brown" is ANSI yellow).
PALETTE = {
    "black": "000000",
    "red": "cd0000",
    "green": "00cd00",
    "brown": "cdcd00",
    "blue": "0000ee",
    "magenta": "cd00cd",
    "cyan": "00cdcd",
    "white": "e5e5e5",
    "brightblack": "7f7f7f",
    "brightred": "ff0000",
    "brightgreen": "00ff00",
    "brightbrown": "ffff00",
    "brightblue": "5c5cff",
    "brightmagenta": "ff00ff",
    "brightcyan": "00ffff",
    "brightwhite": "ffffff",
}
DEFAULT_FG, DEFAULT_BG = "e5e5e5", "000000"


def init_lua(server: Path) -> str:
    found = SNIPPET.search((REPOSITORY / "docs" / "authoring.md").read_text(encoding="utf-8"))
    if found is None:
        sys.exit("the Neovim snippet was not found in docs/authoring.md")
    lua = found.group(1)
    command = '{ "redirection-bot", "lsp" }'
    if command not in lua:
        sys.exit("the Neovim snippet in docs/authoring.md no longer has " + command)
    return lua.replace(command, f'{{ "{server}", "lsp" }}')


class Terminal(pyte.Screen):
    """A pyte screen that answers the terminal's queries (cursor position, ...) to nvim."""

    def __init__(self, master: int) -> None:
        super().__init__(COLUMNS, LINES)
        self.master = master

    def write_process_input(self, data: str) -> None:
        os.write(self.master, data.encode())


class Session:
    def __init__(self, root: Path, config: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        environment = dict(os.environ, TERM="xterm-256color", COLORTERM="", LANG="C.UTF-8")
        environment.pop("NVIM_LISTEN_ADDRESS", None)
        self.process = subprocess.Popen(
            ["nvim", "-n", "-i", "NONE", "--noplugin", "-u", str(config), f"+{TOP_LINE}", FLOW],
            cwd=root,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = Terminal(self.master)
        self.stream = pyte.ByteStream(self.screen)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.stream.feed(os.read(self.master, 65536))
                except OSError:
                    return

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, *needles: str) -> None:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            self.pump(0.2)
            if all(needle in self.text() for needle in needles):
                self.pump(0.5)  # let nvim finish drawing
                return
        self.close()
        sys.exit(
            f"gave up after {DEADLINE:.0f} s: {needles} never appeared on the screen:\n"
            + self.text()
        )

    def keys(self, text: str) -> None:
        os.write(self.master, text.encode())
        self.pump(0.3)

    def close(self) -> None:
        if self.process.poll() is None:
            os.write(self.master, b"\x1b:qa!\r")
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait()
        os.close(self.master)


def colour(value: str, default: str) -> str:
    if value == "default":
        return default
    value = value.replace("bfight", "bright")  # pyte spells the bright backgrounds so
    return PALETTE.get(value, value if re.fullmatch(r"[0-9a-fA-F]{6}", value) else default)


def to_html(screen: pyte.Screen) -> str:
    rows = []
    for y in range(screen.lines):
        cells = []
        for x in range(screen.columns):
            char = screen.buffer[y][x]
            fg, bg = colour(char.fg, DEFAULT_FG), colour(char.bg, DEFAULT_BG)
            if char.reverse != (x == screen.cursor.x and y == screen.cursor.y):
                fg, bg = bg, fg
            style = f"color:#{fg};background:#{bg}"
            if char.bold:
                style += ";font-weight:bold"
            if char.italics:
                style += ";font-style:italic"
            if char.underscore:
                style += ";text-decoration:underline"
            cells.append(f'<span style="{style}">{html.escape(char.data or " ")}</span>')
        rows.append("<div>" + "".join(cells) + "</div>")
    return (
        "<!doctype html><meta charset=utf-8><style>"
        f"body{{margin:0;background:#{DEFAULT_BG}}}"
        "main{display:inline-block;padding:8px;font:15px/19px 'DejaVu Sans Mono',monospace;"
        "white-space:pre}div{display:flex;height:19px}"
        "span{flex:none;width:1ch;height:19px;overflow:hidden}"
        "</style><main>" + "".join(rows) + "</main>"
    )


async def photograph(page_html: str, output: Path) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = await browser.new_page(device_scale_factor=1)
        await page.set_content(page_html)
        box = await page.locator("main").bounding_box()
        assert box is not None
        await page.set_viewport_size(
            {"width": int(box["width"]) + 1, "height": int(box["height"]) + 1}
        )
        await page.locator("main").screenshot(path=str(output))
        await browser.close()


def main() -> None:
    server = REPOSITORY / ".venv" / "bin" / "redirection-bot"
    if not server.exists():
        sys.exit(f"{server} is missing: pip install -e '.[lsp]' into .venv first")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(REPOSITORY / "dialogues", root / "dialogues")
        shutil.copytree(REPOSITORY / "locales", root / "locales")
        flow = root / FLOW
        text = flow.read_text(encoding="utf-8")
        if text.count(TYPO[0]) != 1:
            sys.exit(f"{FLOW} no longer has exactly one {TYPO[0].strip()!r}")
        flow.write_text(text.replace(*TYPO), encoding="utf-8")
        config = root / "init.lua"
        config.write_text(init_lua(server), encoding="utf-8")

        session = Session(root, config)
        session.wait_for("menu.yaml")
        session.keys("zt")
        session.wait_for("goodby", "never be reached")
        line = flow.read_text(encoding="utf-8").splitlines()[HOVER_LINE - 1]
        session.keys(f"{HOVER_LINE}G0{line.index(HOVER_WORD) + 1}|")
        session.keys("K")
        session.wait_for("My plan")
        screen_html = to_html(session.screen)
        print(session.text())
        session.close()
    asyncio.run(photograph(screen_html, OUTPUT))
    print(f"wrote {OUTPUT.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    main()
