"""``MatrixConnector``: log in, then sync, record, save the sync token; again, until stopped.

The sync token is saved only after everything in its batch has been recorded in the ledger,
so a crash at any point replays the batch, and the ledger makes the replay harmless. When
the homeserver cannot be reached the connector waits, longer each time up to
``max_backoff_seconds``, and carries on from the last saved token.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, ClassVar

from redirection_bot.api import (
    ConfigError,
    ConnectorContext,
    ConnectorError,
    Keyring,
    Patience,
    SessionBusy,
    Stopping,
    StoreUnavailable,
    log_event,
)

from .bot import MatrixBot
from .client import (
    Login,
    MatrixClient,
    RateLimited,
    Refused,
    Unreachable,
    silence_nio_logs,
)
from .ledger import Ledger
from .settings import PREFIX, MatrixOptions
from .texts import check_texts
from .updates import SyncBatch

SYNC_TOKEN = "sync_token"
DEVICE_ID = "device_id"
ACCESS_TOKEN = "access_token"


class MatrixConnector:
    """People reach the program in direct Matrix chats, encrypted or not."""

    name: ClassVar[str] = "matrix"
    options_schema: ClassVar[type[MatrixOptions]] = MatrixOptions

    def __init__(self, context: ConnectorContext[MatrixOptions]) -> None:
        self._context = context
        self.settings = context.options
        program = context.runtime.loaded.program
        if self.settings.locale is not None and self.settings.locale not in program.locales:
            raise ConfigError(
                f"{PREFIX}.locale: the program has no locale {self.settings.locale!r} "
                f"(it has {', '.join(program.locales)})"
            )
        check_texts(context.runtime.loaded.catalog, program.locales)
        silence_nio_logs()
        self.bot: MatrixBot | None = None
        self.device_id: str | None = None
        """The bot's device, once logged in."""

    async def run(self) -> int:
        settings = self.settings
        stop = self._context.stop
        settings.state_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.crypto_dir.mkdir(exist_ok=True, mode=0o700)
        ledger = Ledger(settings.ledger_path, Keyring([settings.ledger_key]))
        client = MatrixClient(
            settings.homeserver,
            settings.user_id,
            str(settings.crypto_dir),
            settings.pickle_key,
            settings.encryption,
        )
        patience = Patience(stop, settings.max_backoff_seconds)
        bot = MatrixBot(self._context.runtime, client, ledger, settings, stop)
        self.bot = bot
        try:
            await self._log_in(client, ledger, patience)
            log_event("matrix connected", connector="matrix", status="syncing")
            await self._sync_until_stopped(client, ledger, bot, patience)
        except Stopping:
            pass
        finally:
            await bot.close()
            await client.close()
            await ledger.close()
            log_event("matrix stopped", connector="matrix")
        return 0

    async def _log_in(self, client: MatrixClient, ledger: Ledger, patience: Patience) -> None:
        while True:
            try:
                login = await self._log_in_once(client, ledger)
            except Unreachable as unreachable:
                log_event("matrix login failed", connector="matrix", error=unreachable.reason)
                await patience.back_off()
            except RateLimited as limited:
                await patience.sleep(limited.retry_after_seconds)
            except Refused as refused:
                raise ConnectorError(
                    f"the homeserver refused the bot's login ({refused.errcode}): check "
                    f"{PREFIX}.user_id and the access token or password"
                ) from refused
            else:
                await ledger.put(DEVICE_ID, login.device_id)
                self.device_id = login.device_id
                patience.reset()
                return

    async def _log_in_once(self, client: MatrixClient, ledger: Ledger) -> Login:
        settings = self.settings
        if settings.access_token is not None:
            return await client.log_in_with_token(settings.access_token, settings.device_id)
        assert settings.password is not None
        saved_device = await ledger.get(DEVICE_ID)
        saved_token = await ledger.get(ACCESS_TOKEN)
        if saved_token is not None:
            # The same device (and access token) as last time: the encryption store and the
            # transaction ids of replies still in the outbox stay valid.
            with contextlib.suppress(Refused):
                return await client.log_in_with_token(saved_token, None)
        login = await client.log_in_with_password(
            settings.password, settings.login_name, settings.device_id or saved_device
        )
        await ledger.put(ACCESS_TOKEN, login.access_token)
        return login

    async def _sync_until_stopped(
        self, client: MatrixClient, ledger: Ledger, bot: MatrixBot, patience: Patience
    ) -> None:
        stop = self._context.stop
        token = await ledger.get(SYNC_TOKEN)
        first = True
        pruned = await ledger.prune()
        if pruned:
            log_event("matrix ledger pruned", connector="matrix", count=pruned)
        while not stop.is_set():
            try:
                batch = await self._until_stopped(
                    client.sync(token, self.settings.sync_timeout_seconds, first)
                )
                if batch is None:
                    return
                await bot.handle_batch(batch, initial=token is None)
            except Unreachable as unreachable:
                log_event("matrix sync failed", connector="matrix", error=unreachable.reason)
                await patience.back_off()
                continue
            except RateLimited as limited:
                await patience.wait_out(limited.retry_after_seconds)
                continue
            except (StoreUnavailable, SessionBusy) as busy:
                log_event("matrix store unavailable", connector="matrix", error=type(busy).__name__)
                await patience.back_off()
                continue
            except Refused as refused:
                if refused.errcode in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN"):
                    raise ConnectorError(
                        f"the homeserver no longer accepts the bot's login ({refused.errcode})"
                    ) from refused
                log_event("matrix sync refused", connector="matrix", error=refused.errcode)
                await patience.back_off()
                continue
            token = batch.token
            await ledger.put(SYNC_TOKEN, token)
            patience.reset()
            if first:
                await bot.resume()
                first = False

    async def _until_stopped(self, sync: Coroutine[Any, Any, SyncBatch]) -> SyncBatch | None:
        """The sync's batch, or None as soon as the connector is asked to stop."""
        syncing = asyncio.ensure_future(sync)
        stopping = asyncio.ensure_future(self._context.stop.wait())
        try:
            await asyncio.wait((syncing, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not syncing.done():
                syncing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await syncing
        if syncing.cancelled():
            return None
        batch: SyncBatch = syncing.result()
        return batch
