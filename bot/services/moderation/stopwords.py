"""Stop words: whole words or phrases, any case, ё = е; cached per chat for the hot path.

A stop word is not escaped by disguise, and an innocent word is not taken for one. Text and
phrases are both folded before matching (`variants`): compatibility forms (full-width
letters, ligatures) become plain letters, invisible format characters (zero-width space, soft
hyphen, joiners) and stray combining marks go, case is folded, and accents on Latin letters
go (`cásíñó` = `casino`; Cyrillic `й` stays itself, so `мой` is not `мои`). Look-alike letters
are made one only inside a word that mixes scripts (`саsinо` = `casino`, `кaзинo` = `казино`),
so a plain Russian `рот` never matches a plain English `pot`. No confusables library is
installed, so the look-alikes are a small table here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from bot.clock import SystemTimer, Timer
from bot.db import Database
from bot.expiring import Expiring
from bot.invalidation import Changes, Kind
from bot.services.moderation.values import PHRASE_LIMIT
from bot.services.settings import CACHE_TTL
from models.moderation import ModerationRepository

# lowercase Cyrillic and Greek letters that look like a Latin letter (in upper or lower case)
_CYRILLIC_LIKE = dict(zip("авекмнорстухѕіјԁӏԛԝһүɡ", "abekmhopctyxsijdlqwhyg", strict=True))
_GREEK_LIKE = dict(zip("αβεικνορτυχ", "abeikvoptux", strict=True))
_TO_LATIN = str.maketrans({**_CYRILLIC_LIKE, **_GREEK_LIKE})
_TO_CYRILLIC = str.maketrans(
    {latin: cyrillic for cyrillic, latin in zip("авекмнорстух", "abekmhopctyx", strict=True)}
)
_MARKS = frozenset({"Mn", "Me"})  # combining marks left over once NFKC composed what it could
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """The form a phrase is stored and shown in: compatibility forms unfolded, invisible
    characters dropped, case folded, ё = е."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c) != "Cf").replace("ё", "е")


def _plain(char: str) -> str:
    """A letter without its accents if it is an accented Latin letter; stray marks go."""
    if "\u00c0" <= char <= "\u024f":
        base = unicodedata.normalize("NFD", char)
        return "".join(c for c in base if unicodedata.category(c) not in _MARKS)
    return "" if unicodedata.category(char) in _MARKS else char


def _mixed(word: str) -> bool:
    """Whether a word has Latin letters beside Cyrillic or Greek ones."""
    latin = any("a" <= c <= "z" for c in word)
    return latin and any("\u0370" <= c <= "\u04ff" for c in word)


def variants(text: str) -> list[str]:
    """The forms of `text` stop words are looked for in: folded, and where a word mixes
    scripts, once with its look-alikes made Latin and once made Cyrillic."""
    if text.isascii():
        return [text.lower()]
    folded = "".join(_plain(c) for c in normalise(text))
    if not any(_mixed(word) for word in _WORD.findall(folded)):
        return [folded]

    def fold_with(table: dict[int, str]) -> str:
        return _WORD.sub(
            lambda m: m.group().translate(table) if _mixed(m.group()) else m.group(), folded
        )

    return [fold_with(_TO_LATIN), fold_with(_TO_CYRILLIC)]


def compile_phrases(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for all phrases (folded here): whole words, any run of spaces between."""
    if not phrases:
        return None
    forms = {form for phrase in phrases for form in variants(phrase)}
    parts = [r"\s+".join(re.escape(word) for word in form.split()) for form in sorted(forms)]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def matches(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and any(pattern.search(form) for form in variants(text))


@dataclass
class _Cached:
    phrases: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None


class StopWords:
    """The chats' stop words: read through a short cache, changed by admins' commands."""

    def __init__(
        self, db: Database, *, timer: Timer | None = None, changes: Changes | None = None
    ) -> None:
        self._db = db
        self._timer: Timer = timer if timer is not None else SystemTimer()
        self._changes = changes
        self._cache: Expiring[int, _Cached] = Expiring(CACHE_TTL, self._timer)

    async def _load(self, chat_id: int) -> _Cached:
        return await self._cache.get(chat_id, lambda: self._read(chat_id))

    async def _read(self, chat_id: int) -> _Cached:
        async with self._db.transaction() as session:
            phrases = await ModerationRepository(session).stop_words(chat_id)
        return _Cached(phrases, compile_phrases(phrases))

    def forget(self, chat_id: int) -> None:
        """Drop the chat's cached stop words (changed here or elsewhere, or the chat moved)."""
        self._cache.forget(chat_id)

    def clear(self) -> None:
        """Drop every chat's cached stop words (changes may have gone unheard)."""
        self._cache.clear()

    async def _changed(self, chat_id: int) -> None:
        """After the commit: drop the cached words here and in every other process."""
        self.forget(chat_id)
        if self._changes is not None:
            await self._changes.publish(Kind.STOP_WORDS, chat_id)

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
        await self._changed(chat_id)
        return value

    async def remove(self, chat_id: int, phrase: str) -> bool:
        value = " ".join(normalise(phrase).split())
        async with self._db.transaction() as session:
            removed = await ModerationRepository(session).remove_stop_word(chat_id, value)
        if removed:
            await self._changed(chat_id)
        return removed
