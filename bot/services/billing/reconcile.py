"""Reconciliation: payments and refunds Telegram knows of (getStarTransactions) whose updates
never reached the bot are applied, each through the same once-only path as an update."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.services.billing.admin import Admin
from bot.services.billing.base import BillingContext
from bot.services.billing.payments import Payments
from bot.services.billing.values import PaymentIn
from models.billing import PaymentRepository

log = logging.getLogger(__name__)

RECONCILE_PAGE = 100
RECONCILE_MAX_PAGES = 1000  # 100 000 transactions


class Reconciler:
    """Catches up with Telegram's list of Stars transactions."""

    def __init__(self, billing: BillingContext, payments: Payments, admin: Admin) -> None:
        self._b = billing
        self._payments = payments
        self._admin = admin

    async def reconcile(self) -> int:
        """Apply payments (and refunds) from getStarTransactions whose updates were missed.

        Reads every page (the order Telegram returns them in does not matter); only charges
        the database does not know yet are applied, each through `record_payment`, so a
        payment that arrives as an update meanwhile still counts once.
        """
        applied = 0
        offset = 0
        for _ in range(RECONCILE_MAX_PAGES):
            page = await self._b.notifier.star_transactions(offset, RECONCILE_PAGE)
            if page is None:
                break  # Telegram unavailable: the next run catches up
            # every payment counts, even one whose payload can't be verified any more
            ours = [tx for tx in page if tx.user_id is not None and tx.payload]
            known = await self._known_charges({tx.id for tx in ours})
            for tx in ours:
                if not tx.incoming or tx.id in known or tx.user_id is None or not tx.payload:
                    continue
                period = tx.subscription_period
                result = await self._payments.record_payment(
                    PaymentIn(
                        charge_id=tx.id,
                        user_id=tx.user_id,
                        payload=tx.payload,
                        amount=tx.amount,
                        recurring=period is not None,
                        expires_at=tx.date + timedelta(seconds=period) if period else None,
                        at=tx.date,
                        source="reconcile",
                    )
                )
                applied += not result.duplicate
            refunds = {tx.id for tx in ours if not tx.incoming}
            for charge_id, refunded in (await self._known_charges(refunds)).items():
                if not refunded and await self._admin.refunded(charge_id) is not None:
                    applied += 1
            if len(page) < RECONCILE_PAGE:
                break
            offset += len(page)
        if applied:
            log.info("reconciliation applied %d missed payments or refunds", applied)
        return applied

    async def _known_charges(self, charge_ids: set[str]) -> dict[str, bool]:
        """Charge id → already refunded, for the charges the database knows."""
        if not charge_ids:
            return {}
        async with self._b.db.transaction() as session:
            return await PaymentRepository(session).refunded_flags(charge_ids)
