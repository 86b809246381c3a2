"""Paid membership in Telegram Stars: offers, pre-checkout checks, payments recorded once,
reminders, removal at the end of paid time, grants, exemptions, refunds, reconciliation.

The use cases live in the modules of this package (policy is the pure part); `BillingService`
is the one object the composition root builds and handlers call.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.db import Database
from bot.notifier import Notifier
from bot.services.billing.admin import Admin
from bot.services.billing.base import BILL_END, BILL_REMIND, BillingContext
from bot.services.billing.lifecycle import Lifecycle
from bot.services.billing.memberships import Memberships
from bot.services.billing.offers import Offers
from bot.services.billing.payments import Payments
from bot.services.billing.policy import (
    MONTH,
    OFFER_WINDOW,
    SUBSCRIPTION_PERIOD,
    Payload,
    amount_due,
    csv_cell,
    end_slack,
    make_payload,
    once_end,
    parse_payload,
    read_payload,
    recurring_end,
)
from bot.services.billing.ports import JoinDoor
from bot.services.billing.reconcile import Reconciler
from bot.services.billing.values import (
    Applied,
    Cancel,
    Overview,
    PaymentIn,
    PaymentLine,
    Refund,
    RefundResult,
    Refusal,
    RulesAccepted,
    SubView,
)
from bot.services.ledger import Ledger
from bot.services.members import AdminGuard
from bot.services.settings import SettingsService

__all__ = [
    "BILL_END",
    "BILL_REMIND",
    "MONTH",
    "OFFER_WINDOW",
    "SUBSCRIPTION_PERIOD",
    "Applied",
    "BillingService",
    "Cancel",
    "JoinDoor",
    "Overview",
    "Payload",
    "PaymentIn",
    "PaymentLine",
    "Refund",
    "RefundResult",
    "Refusal",
    "RulesAccepted",
    "SubView",
    "amount_due",
    "csv_cell",
    "end_slack",
    "make_payload",
    "once_end",
    "parse_payload",
    "read_payload",
    "recurring_end",
]


class BillingService:
    """Paid membership of chats whose `price` is above 0: the use cases, each delegated to
    the module that owns it."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        settings: SettingsService,
        door: JoinDoor,
        admins: AdminGuard,
        secret: str,
        old_secrets: tuple[str, ...] = (),
        ledger: Ledger | None = None,
    ) -> None:
        # payloads signed before a key change still verify with the older keys
        self._context = billing = BillingContext(
            db, clock, notifier, settings, door, admins, secret, (secret, *old_secrets), ledger
        )
        offers = Offers(billing)
        payments = Payments(billing)
        lifecycle = Lifecycle(billing, offers)
        memberships = Memberships(billing, payments)
        admin = Admin(billing, lifecycle)
        reconciler = Reconciler(billing, payments, admin)
        self._payments = payments

        self.free_pass = billing.free_pass
        self.has_access = billing.has_access
        # offers and paying
        self.send_offer = offers.send_offer
        self.check = payments.check
        self.record_payment = payments.record_payment
        self.subscription_changed = payments.subscription_changed
        # joining, leaving, deadlines
        self.join_request = lifecycle.join_request
        self.accept_rules = lifecycle.accept_rules
        self.member_joined = lifecycle.member_joined
        self.expire_request = lifecycle.expire_request
        self.member_left = lifecycle.member_left
        self.expire = lifecycle.expire
        self.remind = lifecycle.remind
        # a member's own subscriptions
        self.paid_chats = memberships.paid_chats
        self.views = memberships.views
        self.cancellable = memberships.cancellable
        self.cancel = memberships.cancel
        self.resume = memberships.resume
        # admins' commands
        self.grant = admin.grant
        self.set_exempt = admin.set_exempt
        self.overview = admin.overview
        self.csv = admin.csv
        self.refund = admin.refund
        self.charge_chat = admin.charge_chat
        self.recent_payments = admin.recent_payments
        self.refunded = admin.refunded
        self.reconcile = reconciler.reconcile
