"""Payments in Telegram Stars, as the fake Telegram models them.

The bot side (Bot API methods): ``sendInvoice``, ``createInvoiceLink`` (``subscription_period``
2592000 only), ``answerPreCheckoutQuery``, ``getStarTransactions``, ``refundStarPayment``,
``editUserStarSubscription``, and ``sendDocument`` (for CSV exports).

The user side (``fake.payments``): a person opens an invoice and pays (a
``pre_checkout_query`` update; once the bot answers ok within 10 s, a message with
``successful_payment``), Telegram renews a subscription (optionally without delivering the
update, so only ``getStarTransactions`` knows), subscription state updates, redelivery of an
update, and the errors Telegram returns (``CHARGE_ALREADY_REFUNDED`` and friends).
"""

from __future__ import annotations

import copy
import itertools
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .apibase import ApiBase, Params, bad, flag, opt_int
from .objects import JSON

if TYPE_CHECKING:
    from .state import World

SUBSCRIPTION_PERIOD = 2592000
PRE_CHECKOUT_TIMEOUT = 10.0
MAX_STARS = 10000


@dataclass
class Invoice:
    title: str
    description: str
    payload: str
    amount: int
    subscription_period: int | None = None
    link: str | None = None


@dataclass
class Charge:
    """One successful payment (its id is the telegram_payment_charge_id)."""

    id: str
    user_id: int
    invoice: Invoice
    amount: int
    date: int
    expiration: int | None = None
    first: bool = True
    refunded: bool = False
    subscription: str | None = None  # id of the first charge of its subscription


@dataclass
class Checkout:
    query_id: str
    user_id: int
    invoice: Invoice
    payload: str
    amount: int
    opened: float
    answer: JSON | None = None


@dataclass
class Ledger:
    """What Telegram knows about invoices, charges, subscriptions and the bot's Stars."""

    world: World
    links: dict[str, Invoice] = field(default_factory=dict)
    invoice_messages: dict[tuple[int, int], Invoice] = field(default_factory=dict)
    checkouts: dict[str, Checkout] = field(default_factory=dict)
    charges: dict[str, Charge] = field(default_factory=dict)
    canceled: set[str] = field(default_factory=set)  # subscription ids
    canceled_by_user: set[str] = field(default_factory=set)  # only the user can re-enable
    transactions: list[JSON] = field(default_factory=list)  # oldest first
    documents: list[JSON] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ------------------------------------------------------------------ lookups

    def invoice_of_link(self, url: str) -> Invoice:
        slug = url.rsplit("$", 1)[-1]
        return self.links[slug]

    def last_invoice(self, user_id: int) -> Invoice:
        """The newest invoice the bot gave the user: an invoice message or a pay link."""
        for message in reversed(self.world.sent_messages(user_id)):
            key = (user_id, message["message_id"])
            if key in self.invoice_messages:
                return self.invoice_messages[key]
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    url = button.get("url") or ""
                    if url.startswith("https://t.me/$"):
                        return self.invoice_of_link(url)
        raise LookupError(f"fakegram: the bot gave user {user_id} no invoice")

    def charges_of(self, user_id: int) -> list[Charge]:
        return [c for c in self.charges.values() if c.user_id == user_id]

    # ------------------------------------------------------------------ the user pays

    def open_checkout(
        self,
        user_id: int,
        invoice: Invoice,
        *,
        payload: str | None = None,
        amount: int | None = None,
    ) -> JSON:
        """The user presses Pay: a pre_checkout_query update (payload/amount may be forged)."""
        user = self.world.user(user_id).json
        query_id = str(next(self.world._query_ids))
        checkout = Checkout(
            query_id,
            user_id,
            invoice,
            invoice.payload if payload is None else payload,
            invoice.amount if amount is None else amount,
            self.world.mono(),
        )
        self.checkouts[query_id] = checkout
        return self.world.enqueue(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": user,
                    "currency": "XTR",
                    "total_amount": checkout.amount,
                    "invoice_payload": checkout.payload,
                }
            }
        )

    def pay_unseen(self, user_id: int, invoice: Invoice) -> Charge:
        """A payment whose updates the bot never got (it was down longer than Telegram keeps
        them): only getStarTransactions knows about it."""
        return self._charge(user_id, invoice, invoice.amount)

    def answers(self) -> list[JSON]:
        return [c.answer for c in self.checkouts.values() if c.answer is not None]

    def _charge(
        self,
        user_id: int,
        invoice: Invoice,
        amount: int,
        *,
        payload: str | None = None,
        subscription: str | None = None,
        expiration: int | None = None,
    ) -> Charge:
        charge_id = f"stxFAKE{next(self._ids):06d}{secrets.token_hex(4)}"
        now = self.world.now()
        charge = Charge(
            charge_id,
            user_id,
            invoice if payload is None else Invoice(**{**invoice.__dict__, "payload": payload}),
            amount,
            now,
            expiration=expiration,
            first=subscription is None,
            subscription=subscription or (charge_id if invoice.subscription_period else None),
        )
        if invoice.subscription_period and expiration is None:
            charge.expiration = now + invoice.subscription_period
        self.charges[charge_id] = charge
        partner: JSON = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": self.world.user(user_id).json,
            "invoice_payload": charge.invoice.payload,
        }
        if invoice.subscription_period:
            partner["subscription_period"] = invoice.subscription_period
        self.transactions.append(
            {"id": charge_id, "amount": amount, "date": now, "source": partner}
        )
        return charge

    def successful_payment_update(self, charge: Charge) -> JSON:
        """The message with successful_payment in the payer's private chat (enqueued)."""
        chat = self.world.chat(charge.user_id)
        payment: JSON = {
            "currency": "XTR",
            "total_amount": charge.amount,
            "invoice_payload": charge.invoice.payload,
            "telegram_payment_charge_id": charge.id,
            "provider_payment_charge_id": "",
        }
        if charge.expiration is not None:
            payment["subscription_expiration_date"] = charge.expiration
            payment["is_recurring"] = True
            if charge.first:
                payment["is_first_recurring"] = True
        user = self.world.user(charge.user_id).json
        message = self.world.store_message(chat, user, successful_payment=payment)
        return self.world.enqueue({"message": message})

    def renew(self, charge_id: str, *, deliver: bool = True) -> Charge:
        """Telegram charges the next month of a subscription (``deliver=False``: the update is
        lost, only getStarTransactions shows the payment)."""
        first = self.charges[charge_id]
        sub_id = first.subscription or charge_id
        if sub_id in self.canceled:
            raise ValueError("fakegram: the subscription is canceled; Telegram would not renew it")
        latest = max(
            (c for c in self.charges.values() if (c.subscription or c.id) == sub_id),
            key=lambda c: c.expiration or 0,
        )
        assert latest.expiration is not None and first.invoice.subscription_period
        charge = self._charge(
            first.user_id,
            first.invoice,
            first.amount,
            subscription=sub_id,
            expiration=latest.expiration + first.invoice.subscription_period,
        )
        if deliver:
            self.successful_payment_update(charge)
        return charge

    def subscription_state(self, charge_id: str, state: str) -> JSON:
        """A Bot API `subscription` update: canceled, active or failed."""
        charge = self.charges[charge_id]
        sub_id = charge.subscription or charge_id
        if state == "canceled":  # the user stopped it in their Telegram settings
            self.canceled.add(sub_id)
            self.canceled_by_user.add(sub_id)
        elif state == "active":  # ... and turned it back on there
            self.canceled.discard(sub_id)
            self.canceled_by_user.discard(sub_id)
        return self.world.enqueue(
            {
                "subscription": {
                    "user": self.world.user(charge.user_id).json,
                    "invoice_payload": charge.invoice.payload,
                    "state": state,
                }
            }
        )

    def redeliver(self, update: JSON, *, same_id: bool = False) -> JSON:
        """Deliver an update again (Telegram does after a crash before the offset moved)."""
        again = copy.deepcopy(update)
        if not same_id:
            again.pop("update_id", None)
        return self.world.enqueue(again)


class PaymentMethods(ApiBase):
    """Bot API handlers for invoices, pre-checkout answers, Stars and documents."""

    @property
    def ledger(self) -> Ledger:
        ledger: Ledger = self.w.payments  # type: ignore[attr-defined]
        return ledger

    def payment_handlers(self) -> dict[str, Any]:
        return {
            "sendInvoice": self.send_invoice,
            "createInvoiceLink": self.create_invoice_link,
            "answerPreCheckoutQuery": self.answer_pre_checkout_query,
            "getStarTransactions": self.get_star_transactions,
            "refundStarPayment": self.refund_star_payment,
            "editUserStarSubscription": self.edit_user_star_subscription,
            "sendDocument": self.send_document,
        }

    def _invoice(self, params: Params) -> Invoice:
        for name in ("title", "description", "payload"):
            if not params.get(name):
                raise bad(f"{name.upper()}_EMPTY" if name != "payload" else "PAYLOAD_EMPTY")
        if params.get("currency") != "XTR":
            raise bad("CURRENCY_INVALID")
        if params.get("provider_token"):
            raise bad("PROVIDER_TOKEN_INVALID")  # Stars take an empty provider token
        prices = params.get("prices")
        if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
            raise bad("STARS_INVOICE_INVALID")  # exactly one price for Stars
        amount = opt_int(prices[0], "amount") or 0
        if not 1 <= amount <= MAX_STARS:
            raise bad("STARS_INVOICE_INVALID")
        title, description = str(params["title"]), str(params["description"])
        if len(title) > 32:
            raise bad("TITLE_INVALID")
        if len(description) > 255:
            raise bad("DESCRIPTION_INVALID")
        if len(str(params["payload"]).encode()) > 128:
            raise bad("PAYLOAD_INVALID")
        return Invoice(title, description, str(params["payload"]), amount)

    def send_invoice(self, params: Params) -> JSON:
        chat = self.chat(params)
        if "subscription_period" in params:
            raise bad("SUBSCRIPTION_PERIOD_INVALID")  # only invoice links can subscribe
        invoice = self._invoice(params)
        self.require_can_send(chat)
        message = self.deliver(
            chat,
            params,
            invoice={
                "title": invoice.title,
                "description": invoice.description,
                "start_parameter": "",
                "currency": "XTR",
                "total_amount": invoice.amount,
            },
        )
        self.ledger.invoice_messages[(chat.id, message["message_id"])] = invoice
        return message

    def create_invoice_link(self, params: Params) -> str:
        invoice = self._invoice(params)
        period = opt_int(params, "subscription_period")
        if period is not None and period != SUBSCRIPTION_PERIOD:
            raise bad("SUBSCRIPTION_PERIOD_INVALID")
        invoice.subscription_period = period
        slug = secrets.token_urlsafe(12)
        invoice.link = f"https://t.me/${slug}"
        self.ledger.links[slug] = invoice
        return invoice.link

    def answer_pre_checkout_query(self, params: Params) -> bool:
        query_id = str(params.get("pre_checkout_query_id") or "")
        checkout = self.ledger.checkouts.get(query_id)
        if checkout is None or checkout.answer is not None:
            raise bad("QUERY_ID_INVALID")
        if self.w.mono() - checkout.opened > PRE_CHECKOUT_TIMEOUT:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        ok = flag(params, "ok")
        error = params.get("error_message")
        if not ok and not error:
            raise bad("ERROR_MESSAGE_EMPTY")
        checkout.answer = {"ok": ok, "error_message": error, "payload": checkout.payload}
        if ok:
            charge = self.ledger._charge(
                checkout.user_id, checkout.invoice, checkout.amount, payload=checkout.payload
            )
            self.ledger.successful_payment_update(charge)
        return True

    def get_star_transactions(self, params: Params) -> JSON:
        offset = max(0, opt_int(params, "offset") or 0)
        limit = min(100, max(1, opt_int(params, "limit") or 100))
        # "in chronological order", as the Bot API documents it
        chosen = self.ledger.transactions[offset : offset + limit]
        return {"transactions": copy.deepcopy(chosen)}

    def _charge_of(self, params: Params) -> tuple[int, Charge]:
        user_id = self.target_user(params)
        charge_id = str(params.get("telegram_payment_charge_id") or "")
        charge = self.ledger.charges.get(charge_id)
        if charge is None or charge.user_id != user_id:
            raise bad("CHARGE_NOT_FOUND")
        return user_id, charge

    def refund_star_payment(self, params: Params) -> bool:
        user_id, charge = self._charge_of(params)
        if charge.refunded:
            raise bad("CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        if charge.subscription:
            self.ledger.canceled.add(charge.subscription)
        self.ledger.transactions.append(
            {
                "id": charge.id,
                "amount": charge.amount,
                "date": self.w.now(),
                "receiver": {
                    "type": "user",
                    "transaction_type": "invoice_payment",
                    "user": self.w.user(user_id).json,
                    "invoice_payload": charge.invoice.payload,
                },
            }
        )
        chat = self.w.chat(user_id)
        message = self.w.store_message(
            chat,
            self.w.user(user_id).json,
            refunded_payment={
                "currency": "XTR",
                "total_amount": charge.amount,
                "invoice_payload": charge.invoice.payload,
                "telegram_payment_charge_id": charge.id,
            },
        )
        self.w.enqueue({"message": message})
        return True

    def edit_user_star_subscription(self, params: Params) -> bool:
        _, charge = self._charge_of(params)
        if charge.subscription is None:
            raise bad("SUBSCRIPTION_ID_INVALID")
        if "is_canceled" not in params:
            raise bad("is_canceled is empty")
        if flag(params, "is_canceled"):
            self.ledger.canceled.add(charge.subscription)
        elif charge.subscription not in self.ledger.canceled_by_user:
            # "Pass False to allow the user to re-enable a subscription that was previously
            # canceled by the bot": one the user cancelled stays cancelled
            self.ledger.canceled.discard(charge.subscription)
        return True

    def send_document(self, params: Params) -> JSON:
        chat = self.chat(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if not isinstance(document, dict):
            raise bad("there is no document in the request")
        self.require_can_send(chat)
        content: dict[str, Any] = {
            "document": {
                "file_id": f"BQAC{secrets.token_hex(8)}",
                "file_unique_id": secrets.token_hex(6),
                "file_name": document.get("file_name"),
                "mime_type": document.get("content_type"),
                "file_size": len(str(document.get("data", ""))),
            }
        }
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        message = self.deliver(chat, params, **content)
        self.ledger.documents.append(
            {"chat_id": chat.id, "message_id": message["message_id"], **document}
        )
        return message
