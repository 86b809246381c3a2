"""The fake's Stars payments, driven through a real aiogram Bot: invoices, pre-checkout,
successful payments, renewals, subscription updates, transactions, refunds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    LabeledPrice,
    TransactionPartnerUser,
    Update,
)

from .payments import SUBSCRIPTION_PERIOD
from .server import FakeTelegram
from .test_fakegram import make_bot

ANNA = 11
PRICE = [LabeledPrice(label="Month", amount=100)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.add_user(ANNA, "Anna", started_bot=True)
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    yield client
    await client.session.close()


async def updates(bot: Bot, offset: int = 0) -> list[Update]:
    return await bot.get_updates(offset=offset, timeout=0)


async def test_invoice_link_subscription_pre_checkout_and_successful_payment(
    fake: FakeTelegram, bot: Bot
) -> None:
    with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_PERIOD_INVALID"):
        await bot.create_invoice_link(
            title="T", description="D", payload="p", currency="XTR", prices=PRICE,
            subscription_period=86400,
        )  # fmt: skip
    with pytest.raises(TelegramBadRequest, match="CURRENCY_INVALID"):
        await bot.create_invoice_link(
            title="T", description="D", payload="p", currency="USD", prices=PRICE
        )
    link = await bot.create_invoice_link(
        title="T",
        description="D",
        payload="p1",
        currency="XTR",
        prices=PRICE,
        provider_token="",
        subscription_period=SUBSCRIPTION_PERIOD,
    )
    invoice = fake.payments.invoice_of_link(link)
    fake.payments.open_checkout(ANNA, invoice)
    [update] = await updates(bot)
    query = update.pre_checkout_query
    assert query is not None and query.invoice_payload == "p1" and query.total_amount == 100
    with pytest.raises(TelegramBadRequest, match="ERROR_MESSAGE_EMPTY"):
        await bot.answer_pre_checkout_query(query.id, ok=False)
    assert await bot.answer_pre_checkout_query(query.id, ok=True)
    [paid] = await updates(bot, update.update_id + 1)
    payment = paid.message.successful_payment if paid.message else None
    assert payment is not None
    assert payment.is_recurring and payment.is_first_recurring
    assert payment.subscription_expiration_date == paid.message.date.timestamp() + 2592000  # type: ignore[union-attr]
    assert payment.telegram_payment_charge_id in fake.payments.charges

    renewal = fake.payments.renew(payment.telegram_payment_charge_id)
    [renewed] = await updates(bot, paid.update_id + 1)
    again = renewed.message.successful_payment if renewed.message else None
    assert again is not None and again.is_recurring and not again.is_first_recurring
    assert again.telegram_payment_charge_id == renewal.id

    fake.payments.subscription_state(renewal.id, "canceled")
    [state] = await updates(bot, renewed.update_id + 1)
    assert state.subscription is not None and state.subscription.state == "canceled"
    with pytest.raises(ValueError):
        fake.payments.renew(payment.telegram_payment_charge_id)
    # is_canceled=False re-enables only what the bot cancelled, not what the user did
    charge_id = payment.telegram_payment_charge_id
    assert await bot.edit_user_star_subscription(ANNA, charge_id, is_canceled=False)
    with pytest.raises(ValueError):
        fake.payments.renew(charge_id)
    fake.payments.subscription_state(charge_id, "active")  # the user turns it back on
    fake.payments.renew(charge_id)
    assert await bot.edit_user_star_subscription(ANNA, charge_id, is_canceled=True)
    with pytest.raises(ValueError):
        fake.payments.renew(charge_id)
    assert await bot.edit_user_star_subscription(ANNA, charge_id, is_canceled=False)
    fake.payments.renew(charge_id)


async def test_send_invoice_refusal_and_late_answer(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_invoice(
        ANNA, title="T", description="D", payload="p2", currency="XTR", prices=PRICE
    )
    assert message.invoice is not None and message.invoice.total_amount == 100
    invoice = fake.payments.last_invoice(ANNA)
    fake.payments.open_checkout(ANNA, invoice)
    fake.payments.open_checkout(ANNA, invoice)
    first, second = await updates(bot)
    assert first.pre_checkout_query and second.pre_checkout_query
    await bot.answer_pre_checkout_query(first.pre_checkout_query.id, ok=False, error_message="No")
    fake.advance(11)
    with pytest.raises(TelegramBadRequest, match="too old"):
        await bot.answer_pre_checkout_query(second.pre_checkout_query.id, ok=True)
    assert not fake.payments.charges
    assert fake.payments.answers()[0] == {"ok": False, "error_message": "No", "payload": "p2"}


async def test_transactions_and_refunds(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_invoice(
        ANNA, title="T", description="D", payload="p3", currency="XTR", prices=PRICE
    )
    fake.payments.open_checkout(ANNA, fake.payments.last_invoice(ANNA))
    [update] = await updates(bot)
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    [charge] = fake.payments.charges_of(ANNA)
    page = await bot.get_star_transactions()
    [tx] = page.transactions
    assert tx.id == charge.id and tx.amount == 100
    assert isinstance(tx.source, TransactionPartnerUser) and tx.source.invoice_payload == "p3"

    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(ANNA, "nope")
    assert await bot.refund_star_payment(ANNA, charge.id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(ANNA, charge.id)
    _, refund = (await bot.get_star_transactions()).transactions
    assert refund.id == charge.id and refund.receiver is not None and refund.source is None
    with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_ID_INVALID"):
        await bot.edit_user_star_subscription(ANNA, charge.id, is_canceled=True)


async def test_documents_keep_their_content(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_document(ANNA, BufferedInputFile(b"a,b\n1,2\n", filename="x.csv"))
    assert message.document is not None and message.document.file_name == "x.csv"
    assert fake.payments.documents[-1]["data"] == "a,b\n1,2\n"
