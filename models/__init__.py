"""Tables, repositories and the unit of work."""

from models.base import Base
from models.billing import Payment, Subscription
from models.buddies import BuddyPair, BuddyVolunteer, BuddyWaiting
from models.chats import Chat, ChatSetting
from models.checkins import (
    CheckinEntry,
    CheckinMember,
    CheckinPerson,
    CheckinQuestions,
    CheckinRound,
)
from models.circles import Circle, CircleCall, CircleMember
from models.deadlines import Deadline
from models.ideas import Idea, IdeaVote
from models.kb import KbConsent, KbEntry, KbSuggestion
from models.ledger import LedgerRow
from models.members import Member, TrustLevel, WelcomePost
from models.moderation import ModAction, Report, StopWord, Warning_
from models.outbox import OutboxMessage
from models.thanks import Thanks, ThanksBoard
from models.users import User

__all__ = [
    "Base",
    "BuddyPair",
    "BuddyVolunteer",
    "BuddyWaiting",
    "Chat",
    "ChatSetting",
    "CheckinEntry",
    "CheckinMember",
    "CheckinPerson",
    "CheckinQuestions",
    "CheckinRound",
    "Circle",
    "CircleCall",
    "CircleMember",
    "Deadline",
    "Idea",
    "IdeaVote",
    "KbConsent",
    "KbEntry",
    "KbSuggestion",
    "LedgerRow",
    "Member",
    "ModAction",
    "OutboxMessage",
    "Payment",
    "Report",
    "StopWord",
    "Subscription",
    "Thanks",
    "ThanksBoard",
    "TrustLevel",
    "User",
    "Warning_",
    "WelcomePost",
]
