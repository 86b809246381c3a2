"""What /buddy shows a person and /buddies shows an admin (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.people import Person
from models.buddies import BuddyRepository
from models.users import User, UserRepository


@dataclass
class BuddyView:
    """What /buddy shows one person in one chat."""

    buddy: Person | None = None
    newcomers: list[Person] = field(default_factory=list)
    waiting: bool = False
    volunteer: bool = False


@dataclass
class Overview:
    """What /buddies shows an admin."""

    pairs: list[tuple[Person, Person, datetime]] = field(default_factory=list)
    loads: list[tuple[Person, int]] = field(default_factory=list)
    waiting: list[tuple[Person, datetime]] = field(default_factory=list)


def as_person(user: User) -> Person:
    return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)


async def read_view(session: AsyncSession, chat_id: int, user_id: int) -> BuddyView:
    buddies = BuddyRepository(session)
    view = BuddyView()
    pair = await buddies.active_pair(chat_id, user_id)
    if pair is not None:
        buddy = await session.get(User, pair.buddy_id)
        view.buddy = as_person(buddy) if buddy else Person(pair.buddy_id, str(pair.buddy_id))
    view.newcomers = [as_person(user) for user in await buddies.newcomers_of(chat_id, user_id)]
    view.waiting = await buddies.waiting(chat_id, user_id) is not None
    view.volunteer = await buddies.is_volunteer(chat_id, user_id)
    return view


async def read_overview(session: AsyncSession, chat_id: int) -> Overview:
    buddies = BuddyRepository(session)
    pairs = await buddies.active_pairs(chat_id)
    volunteers = await buddies.volunteers(chat_id)
    waiting = await buddies.waiting_list(chat_id)
    ids = {p.newcomer_id for p in pairs} | {p.buddy_id for p in pairs}
    ids |= set(volunteers) | {w.newcomer_id for w in waiting}
    users = {u.id: as_person(u) for u in await UserRepository(session).many(ids)}

    def who(user_id: int) -> Person:
        return users.get(user_id) or Person(user_id, str(user_id))

    result = Overview()
    result.pairs = [(who(p.newcomer_id), who(p.buddy_id), p.started_at) for p in pairs]
    load = dict.fromkeys(volunteers, 0)
    for pair in pairs:
        load[pair.buddy_id] = load.get(pair.buddy_id, 0) + 1
    result.loads = sorted(((who(u), n) for u, n in load.items()), key=lambda x: -x[1])
    result.waiting = [(who(w.newcomer_id), w.since) for w in waiting]
    return result
