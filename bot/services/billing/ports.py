"""What billing needs from the join-request flow, as a protocol: billing does not import
onboarding (onboarding calls billing as its paid gate; the other way round would be a cycle)."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from bot.services.people import Person

# The deadline kind of a pending join request: onboarding schedules it, billing pushes it back
# while a payment may still come (must equal bot.services.onboarding.REQUEST).
JOIN_REQUEST = "request"
REQUEST_EXPIRED = "expired"  # the outcome of accepting a request that is no longer there
REQUEST_APPROVED = "approved"
REQUEST_LATER = "later"  # Telegram unavailable: the request still waits, with a deadline
REQUEST_ALREADY = "already"
REQUEST_OFFERED = "offered"  # the chat is paid now: the request waits for the payment
REQUEST_UNPAID = "unpaid"  # ... but no offer could be sent (the person is told /subscribe)
# a paid request's deadline moves this close: if the approval right after the payment does
# not happen, the deadline approves it (must equal onboarding's APPROVAL_RETRY)
REQUEST_RETRY = timedelta(minutes=1)


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
