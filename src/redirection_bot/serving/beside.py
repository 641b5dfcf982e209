"""What runs beside the connectors in ``serve``: the admin listener, the session sweeper and,
with a helpline, the desk's clock.

The admin listener serves Prometheus metrics, the partners' funnel and the outcome measures'
export (``metrics.admin_app``)
on its own address,
localhost by default, so that it is never reachable where people chat. The sweeper removes
idle sessions from stores that do not expire them themselves (memory, SQLite). The desk's
clock ticks waiting handoffs (notices, the fallback on time) on every instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from redirection_bot.errors import ConnectorError
from redirection_bot.operations.listening import listen
from redirection_bot.operations.listening import runner as listener_runner
from redirection_bot.operations.logs import log_event
from redirection_bot.operations.metrics import admin_app
from redirection_bot.store import StoreUnavailable

if TYPE_CHECKING:
    from redirection_bot.operations.config import AdminSettings
    from redirection_bot.turn.runtime import Runtime

SWEEP_SECONDS = 300.0


async def sweep_forever(runtime: Runtime, every_seconds: float = SWEEP_SECONDS) -> None:
    """Remove idle sessions now and then, until cancelled."""
    while True:
        with contextlib.suppress(StoreUnavailable):
            removed = await runtime.expire_idle()
            if removed:
                log_event("sessions expired", count=removed)
        await asyncio.sleep(every_seconds)


@contextlib.asynccontextmanager
async def running_beside(runtime: Runtime, admin: AdminSettings) -> AsyncIterator[None]:
    """Run the admin listener, the sweeper and the desk's clock while the connectors run;
    close the store (and the relay) after."""
    runner: web.AppRunner | None = None
    if admin.enabled and runtime.metrics is not None:
        app = admin_app(runtime.metrics, runtime.funnel, runtime.outcomes)
        runner = listener_runner(app)
        await runner.setup()
        try:
            port = await listen(
                runner, admin.host, admin.port, "the admin listener (metrics)", "`admin.port`"
            )
            log_event("admin listening", host=admin.host, port=port)
        except ConnectorError as error:
            # Metrics are not worth keeping people from the chat: say so, and carry on.
            print(f"warning: {error} The chat runs without metrics.", file=sys.stderr)
            runner = None
    sweeper = asyncio.create_task(sweep_forever(runtime))
    desk = runtime.handoff_desk
    ticking = asyncio.Event()
    clock = asyncio.create_task(desk.run(runtime, ticking)) if desk is not None else None
    try:
        yield
    finally:
        ticking.set()
        for task in (sweeper, clock):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if runner is not None:
            await runner.cleanup()
        await runtime.close()
        if desk is not None:
            await desk.relay.close()
