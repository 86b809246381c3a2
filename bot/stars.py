"""Telegram Stars calls of the notifier (paid membership): invoices, refunds, subscriptions
and the transaction list used for reconciliation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import LabeledPrice, TransactionPartnerUser


@dataclass(frozen=True)
class StarTx:
    """One Stars transaction: incoming payments and (outgoing) refunds share the charge id."""

    id: str
    amount: int
    date: datetime
    incoming: bool
    user_id: int | None
    payload: str | None
    subscription_period: int | None


class StarsCalls:
    """Payments in Telegram Stars, with Telegram's errors turned into plain results."""

    bot: Bot

    async def _failed(self, what: str, chat_id: int, error: TelegramAPIError) -> None:
        raise NotImplementedError  # the notifier classifies and logs the failure

    async def send_invoice(
        self, chat_id: int, title: str, description: str, payload: str, amount: int
    ) -> int | None:
        """A one-time Stars invoice (its own message with a pay button)."""
        try:
            message = await self.bot.send_invoice(
                chat_id,
                title=title[:32],
                description=description[:255],
                payload=payload,
                currency="XTR",
                prices=[LabeledPrice(label=title[:32], amount=amount)],
                provider_token="",
            )
        except TelegramAPIError as error:
            await self._failed("sendInvoice", chat_id, error)
            return None
        return message.message_id

    async def invoice_link(
        self, title: str, description: str, payload: str, amount: int, period: int | None
    ) -> str | None:
        """A Stars payment link; with `period` (seconds) Telegram renews it as a subscription."""
        try:
            return await self.bot.create_invoice_link(
                title=title[:32],
                description=description[:255],
                payload=payload,
                currency="XTR",
                prices=[LabeledPrice(label=title[:32], amount=amount)],
                provider_token="",
                subscription_period=period,
            )
        except TelegramAPIError as error:
            await self._failed("createInvoiceLink", 0, error)
            return None

    async def answer_pre_checkout(self, query_id: str, error: str | None = None) -> None:
        try:
            await self.bot.answer_pre_checkout_query(
                query_id, ok=error is None, error_message=error
            )
        except TelegramAPIError as failure:
            await self._failed("answerPreCheckoutQuery", 0, failure)

    async def refund_stars(self, user_id: int, charge_id: str) -> str:
        """refundStarPayment: "ok", "already" (refunded before) or "failed"."""
        try:
            await self.bot.refund_star_payment(user_id, charge_id)
        except TelegramAPIError as error:
            if "charge_already_refunded" in str(error.message).lower():
                return "already"
            await self._failed("refundStarPayment", 0, error)
            return "failed"
        return "ok"

    async def cancel_star_subscription(self, user_id: int, charge_id: str, canceled: bool) -> bool:
        try:
            await self.bot.edit_user_star_subscription(user_id, charge_id, canceled)
        except TelegramAPIError as error:
            await self._failed("editUserStarSubscription", 0, error)
            return False
        return True

    async def star_transactions(self, offset: int, limit: int) -> list[StarTx] | None:
        """A page of the bot's Stars transactions as plain values; None on failure."""
        try:
            page = await self.bot.get_star_transactions(offset=offset, limit=limit)
        except TelegramAPIError as error:
            await self._failed("getStarTransactions", 0, error)
            return None
        result = []
        for tx in page.transactions:
            partner = tx.source or tx.receiver
            user = partner if isinstance(partner, TransactionPartnerUser) else None
            result.append(
                StarTx(
                    id=tx.id,
                    amount=tx.amount,
                    date=tx.date,
                    incoming=tx.source is not None,
                    user_id=user.user.id if user else None,
                    payload=user.invoice_payload if user else None,
                    subscription_period=user.subscription_period if user else None,
                )
            )
        return result
