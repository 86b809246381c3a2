"""Tables, repositories and the unit of work."""

from models.base import Base
from models.billing import Payment, Subscription
from models.buddies import BuddyPair, BuddyVolunteer, BuddyWaiting
from models.chats import Chat, ChatSetting
from models.deadlines import Deadline
from models.members import Member, TrustLevel, WelcomePost
from models.users import User

__all__ = [
    "Base",
    "BuddyPair",
    "BuddyVolunteer",
    "BuddyWaiting",
    "Chat",
    "ChatSetting",
    "Deadline",
    "Member",
    "Payment",
    "Subscription",
    "TrustLevel",
    "User",
    "WelcomePost",
]
