"""Paid membership from the invite link to the refund, in one flow (moved from the
end-to-end tier: it needs no real process; payments across a restart stay there)."""

from __future__ import annotations

from tests.dispatcher.conftest import ADMIN, GROUP, NEWCOMER, Harness


async def pay_last_invoice(h: Harness, user_id: int) -> None:
    invoice = h.fake.payments.last_invoice(user_id)
    before, answered = len(h.fake.payments.charges), len(h.fake.payments.answers())
    h.fake.payments.open_checkout(user_id, invoice)
    await h.settle()
    assert len(h.fake.payments.answers()) > answered
    assert h.fake.payments.answers()[-1]["ok"] is True
    assert len(h.fake.payments.charges) == before + 1


def texts(h: Harness, user_id: int) -> list[str]:
    return [m.get("text", "") for m in h.fake.sent_messages(user_id)]


async def test_join_request_offer_pay_approved(harness: Harness) -> None:
    h = harness
    for key, value in {"price": "100", "language": "en"}.items():
        h.fake.send_message(GROUP, ADMIN, f"/set {key} {value}")
    await h.settle()

    h.fake.send_message(GROUP, ADMIN, "/invite")
    await h.settle()
    assert h.fake.calls_of("createChatInviteLink")[-1].params["creates_join_request"] is True

    h.fake.join_request(GROUP, NEWCOMER)
    await h.settle()
    offer = [m for m in h.fake.sent_messages(NEWCOMER) if "100 ⭐" in m.get("text", "")]
    assert "Circle" in offer[-1]["text"]
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    await pay_last_invoice(h, NEWCOMER)
    assert h.fake.member_status(GROUP, NEWCOMER) == "member"
    assert any("Payment received" in text for text in texts(h, NEWCOMER))

    # Telegram delivers the same payment again: it counts once
    paid = next(
        u
        for call in h.fake.calls_of("getUpdates")
        for u in call.result or []
        if "successful_payment" in u.get("message", {})
    )
    h.fake.payments.redeliver(paid)
    await h.settle()
    assert not h.fake.pending_updates
    assert sum("Payment received" in text for text in texts(h, NEWCOMER)) == 1

    # /subs figures match the payments (sent to the admin privately)
    h.fake.send_message(ADMIN, ADMIN, "/start")
    h.fake.send_message(GROUP, ADMIN, "/subs")
    await h.settle()
    figures = [text for text in texts(h, ADMIN) if "Revenue" in text]
    assert "Revenue in total: 100 ⭐ (1 payments)" in figures[-1]
    assert "Active: 1" in figures[-1]

    # a refund ends the access it bought
    [charge] = h.fake.payments.charges_of(NEWCOMER)
    h.fake.send_message(GROUP, ADMIN, f"/refund {charge.id}")
    await h.settle()
    assert h.fake.member_status(GROUP, NEWCOMER) == "left"
    assert h.fake.calls_of("refundStarPayment")[-1].ok
