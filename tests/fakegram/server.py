"""A fake Telegram Bot API server for end-to-end tests of the bot.

Usage::

    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
    fake.add_user(1, "Anna", started_bot=True)
    fake.send_message(1, 1, "/start")       # the user writes; the bot polls it
    await fake.wait_for(lambda: fake.sent_messages(1))
    await fake.stop()

The world (users, chats, members, messages, updates) lives in ``state.World``; the Bot
API methods in ``methods.BotApi``; this module is the HTTP front plus inspection helpers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .apibase import ApiError
from .forum import ForumWorld
from .limits import RateLimiter
from .methods import BotApi
from .objects import JSON
from .payments import Ledger
from .photos import Photos
from .reactions import Reactions
from .webhooks import WebhookSender

__all__ = ["Call", "FakeTelegram"]

# Form/query values that are plain strings even if they look like JSON ("123", "true").
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "name",
        "description",
        "short_description",
        "language_code",
        "action",
        "title",
        "custom_title",
        "invite_link",
        "question",
        "emoji",
        "query",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "business_connection_id",
        "message_effect_id",
        "explanation",
        "sticker",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "tag",
    }
)


@dataclass
class Call:
    """One request the bot made: canonical method name, decoded params, reply envelope."""

    method: str
    params: dict[str, Any]
    at: float
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")


@dataclass
class _Failure:
    method: str  # lower-case
    error_code: int
    description: str
    retry_after: int | None
    times: int
    when: Callable[[dict[str, Any]], bool] | None


def _decode_value(key: str, value: str) -> Any:
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def decode_params(request: web.Request) -> dict[str, Any]:
    """Query string + form/multipart/JSON body, with JSON-encoded values decoded."""
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in request.query.items()}
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            for key, value in body.items():
                # JSON bodies may still carry "123" or '{"inline_keyboard": ...}' strings
                params[key] = _decode_value(key, value) if isinstance(value, str) else value
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            raw = value.file.read()
            params[key] = {
                "file_name": value.filename,
                "content_type": value.content_type,
                "data": raw.decode("utf-8", "replace"),
                "bytes": raw,  # pictures are not text
            }
        else:
            params[key] = _decode_value(key, str(value))
    return params


class FakeTelegram(ForumWorld):
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "hearth_test_bot",
        group_limit_per_minute: int = 20,
        global_limit_per_second: int = 30,
        private_limit_per_second: float = 1.0,
        private_burst: int = 5,
    ) -> None:
        super().__init__(token, bot_username)
        self.limiter = RateLimiter(
            group_per_minute=group_limit_per_minute,
            global_per_second=global_limit_per_second,
            private_per_second=private_limit_per_second,
            private_burst=private_burst,
        )
        self.api = BotApi(self, self.limiter)
        self.payments = Ledger(self)
        self.photos = Photos()  # what sendPhoto uploaded (tests decode the pictures)
        self.reactions = Reactions(self)  # reactions and their (admin-only) updates
        self.webhooks = WebhookSender(self)  # posts updates once `deliver_webhooks()` is called
        self.calls: list[Call] = []
        self.server_errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.url = ""
        self._failures: list[_Failure] = []
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.closing = False
        self.reset_wakeup()
        bound_port = runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"

    def deliver_webhooks(self, targets: list[str] | None = None) -> None:
        """POST updates to the webhook, as Telegram does, or round robin to `targets` (a proxy
        in front of several processes). Off by default: webhook tests post by hand."""
        self.webhooks.targets = list(targets or [])
        self.webhooks.start()

    async def stop(self) -> None:
        self.closing = True
        self.notify()  # release long-polls so shutdown does not wait for them
        await self.webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        at = self.mono()
        raw_method = request.match_info["method"]
        try:
            params = await decode_params(request)
        except ValueError:
            params = {}
            envelope = ApiError(400, "Bad Request: can't parse request body").envelope()
        else:
            envelope = await self._dispatch(request.match_info["token"], raw_method, params)
        method = self.api.canonical(raw_method) or raw_method
        body = json.dumps(envelope, ensure_ascii=False)
        self.calls.append(Call(method, params, at, json.loads(body)))
        status = 200 if envelope.get("ok") else int(envelope["error_code"])
        return web.Response(text=body, status=status, content_type="application/json")

    async def _dispatch(self, token: str, raw_method: str, params: dict[str, Any]) -> JSON:
        if token != self.token:
            return ApiError(401, "Unauthorized").envelope()
        method = self.api.canonical(raw_method)
        if method is None:
            return ApiError(404, "Not Found").envelope()
        failure = self._take_failure(method, params)
        if failure is not None:
            return failure.envelope()
        try:
            result = await self.api.call(method, params)
        except ApiError as exc:
            return exc.envelope()
        except Exception as exc:  # a bug in the fake: report it loudly, don't hide it
            self.server_errors.append(traceback.format_exc())
            return ApiError(500, f"Internal Server Error: fakegram {exc!r}").envelope()
        return {"ok": True, "result": result}

    # ------------------------------------------------------------------ error injection

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) fail."""
        self._failures.append(
            _Failure(method.lower(), error_code, description, retry_after, times, when)
        )

    def _take_failure(self, method: str, params: dict[str, Any]) -> ApiError | None:
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.when is not None and not failure.when(params):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            parameters = (
                {"retry_after": failure.retry_after} if failure.retry_after is not None else None
            )
            return ApiError(failure.error_code, failure.description, parameters)
        return None

    # ------------------------------------------------------------------ inspection

    @property
    def polls_started(self) -> int:
        """How many getUpdates requests have arrived (counted on arrival, unlike `calls`)."""
        return self.api._poll_seq

    @property
    def rate_limited(self) -> int:
        """429s the fake produced because of its flood limits (injected ones excluded)."""
        return self.api.rate_limited

    @rate_limited.setter
    def rate_limited(self, value: int) -> None:
        self.api.rate_limited = value

    def calls_of(self, method: str) -> list[Call]:
        wanted = (self.api.canonical(method) or method).lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def describe_calls(self, last: int = 15) -> str:
        lines = []
        for call in self.calls[-last:]:
            if call.ok:
                outcome = "ok"
            else:
                outcome = f"{call.response.get('error_code')} {call.response.get('description')}"
            params = json.dumps(call.params, ensure_ascii=False, default=str)
            if len(params) > 200:
                params = params[:200] + "…"
            lines.append(f"  {call.method} {params} -> {outcome}")
        return "\n".join(lines) or "  (no calls)"

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05
    ) -> Any:
        """Poll ``predicate`` until truthy and return its value; AssertionError on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if loop.time() >= deadline:
                break
            await asyncio.sleep(interval)
        name = getattr(predicate, "__name__", repr(predicate))
        report = [
            f"fakegram.wait_for: {name} still false after {timeout}s",
            f"pending updates: {self.pending_updates}",
            f"last calls ({len(self.calls)} total):",
            self.describe_calls(),
        ]
        if self.server_errors:
            report += ["fake server errors:", *self.server_errors]
        raise AssertionError("\n".join(report))
