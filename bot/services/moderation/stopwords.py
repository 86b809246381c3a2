"""Stop words: whole words or phrases, any case, ё = е; cached per chat for the hot path.

A stop word is not escaped by disguise: the text and the phrases are both folded before
matching (`fold`): compatibility forms (full-width letters, ligatures) become plain letters,
invisible format characters (zero-width space, soft hyphen, joiners) and accents go, case is
folded, and Cyrillic and Greek letters that look like Latin ones become those Latin letters.
No confusables library is installed, so the look-alikes are a small table here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from bot.clock import SystemTimer, Timer
from bot.db import Database
from bot.services.moderation.values import PHRASE_LIMIT
from bot.services.settings import CACHE_TTL
from models.moderation import ModerationRepository

# lowercase Cyrillic and Greek letters that look like a Latin letter (in upper or lower case)
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("авекмнорстухѕіјԁӏԛԝһүɡ", "abekmhopctyxsijdlqwhyg", strict=True)),
        **dict(zip("αβεικνορτυχ", "abeikvoptux", strict=True)),
    }
)
_DROPPED = frozenset({"Cf", "Mn", "Me"})  # format characters, combining marks


def normalise(text: str) -> str:
    """The form a phrase is stored and shown in: compatibility forms unfolded, invisible
    characters dropped, case folded, ё = е."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c) != "Cf").replace("ё", "е")


def fold(text: str) -> str:
    """The form text and phrases are matched in: `normalise`, then without accents and
    with look-alike letters made one (`саsinо` in mixed scripts = `casino`)."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(c for c in text if unicodedata.category(c) not in _DROPPED)
    return kept.translate(_LOOKALIKES)


def compile_phrases(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for all phrases (folded here): whole words, any run of spaces between."""
    if not phrases:
        return None
    parts = [r"\s+".join(re.escape(word) for word in fold(phrase).split()) for phrase in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def matches(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.search(fold(text)) is not None


@dataclass
class _Cached:
    phrases: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None
    expires: float = 0.0


class StopWords:
    """The chats' stop words: read through a short cache, changed by admins' commands."""

    def __init__(self, db: Database, *, timer: Timer | None = None) -> None:
        self._db = db
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._cache: dict[int, _Cached] = {}
        self._versions: dict[int, int] = {}

    async def _load(self, chat_id: int) -> _Cached:
        cached = self._cache.get(chat_id)
        if cached is None or cached.expires < self._timer.monotonic():
            version = self._versions.get(chat_id, 0)
            async with self._db.transaction() as session:
                phrases = await ModerationRepository(session).stop_words(chat_id)
            cached = _Cached(phrases, compile_phrases(phrases), self._timer.monotonic() + CACHE_TTL)
            if self._versions.get(chat_id, 0) == version:  # no change meanwhile
                self._cache[chat_id] = cached
        return cached

    def forget(self, chat_id: int) -> None:
        self._changed(chat_id)

    def _changed(self, chat_id: int) -> None:
        self._versions[chat_id] = self._versions.get(chat_id, 0) + 1
        self._cache.pop(chat_id, None)

    async def found_in(self, chat_id: int, text: str) -> bool:
        """Whether `text` contains one of the chat's stop words."""
        return matches((await self._load(chat_id)).pattern, text)

    async def list(self, chat_id: int) -> list[str]:
        return list((await self._load(chat_id)).phrases)

    async def add(self, chat_id: int, phrase: str) -> str | None:
        """Store a phrase (normalised); None if it was there already."""
        value = " ".join(normalise(phrase).split())[:PHRASE_LIMIT]
        if not value:
            return None
        try:
            async with self._db.transaction() as session:
                await ModerationRepository(session).add_stop_word(chat_id, value)
        except IntegrityError:
            return None
        self._changed(chat_id)
        return value

    async def remove(self, chat_id: int, phrase: str) -> bool:
        value = " ".join(normalise(phrase).split())
        async with self._db.transaction() as session:
            removed = await ModerationRepository(session).remove_stop_word(chat_id, value)
        if removed:
            self._changed(chat_id)
        return removed
