"""What billing needs from the join-request flow, as a protocol: billing imports no onboarding
code (onboarding calls billing as its paid gate; the other way round would be a cycle), only
the join request's deadline constants, so the two cannot drift apart."""

from __future__ import annotations

from typing import Protocol

from bot.services.onboarding.requests import APPROVAL_RETRY, REQUEST, Accept
from bot.services.people import Person

# The deadline kind of a pending join request: onboarding schedules it, billing pushes it back
# while a payment may still come.
JOIN_REQUEST = REQUEST
# the outcomes of accepting a request (RequestAccepted.outcome)
REQUEST_EXPIRED = Accept.EXPIRED.value  # the request is no longer there
REQUEST_APPROVED = Accept.APPROVED.value
REQUEST_LATER = Accept.LATER.value  # Telegram unavailable: the request still waits, with a deadline
REQUEST_ALREADY = Accept.ALREADY.value
REQUEST_OFFERED = "offered"  # the chat is paid now: the request waits for the payment
REQUEST_UNPAID = "unpaid"  # ... but no offer could be sent (the person is told /subscribe)
# a paid request's deadline moves this close: if the approval right after the payment does
# not happen, the deadline approves it (as onboarding retries an approval after an outage)
REQUEST_RETRY = APPROVAL_RETRY


class RequestAccepted(Protocol):
    """The result of approving a join request; `outcome` is approved, already, expired or
    later."""

    @property
    def outcome(self) -> str: ...

    @property
    def chat_title(self) -> str: ...


class JoinDoor(Protocol):
    """The join-request side of onboarding, as billing uses it."""

    async def accept_request(self, chat_id: int, person: Person) -> RequestAccepted:
        """Approve the person's pending join request as a newcomer."""
        ...

    async def expire_request(self, chat_id: int, user_id: int) -> None:
        """Decline a join request whose time is up, and say so."""
        ...

    async def warn_missing_rights(
        self, chat_id: int, missing: list[str], force: bool = False
    ) -> None:
        """Tell the chat which admin rights the bot lacks."""
        ...
