"""Words for the knowledge base, pure: note names as admins type them, stems for search
(Russian and English word forms), the match score a suggestion needs, and snippets.

Names: one word or a phrase in quotes, any case, ё = е. Stems: Snowball's Russian stemmer for
Cyrillic words and its English one for Latin words, so "наставника" and "наставник" share the
stem "наставник", "buddies" and "buddy" the stem "buddi". The stems of an entry are stored with
it (computed on write), so a search only stems the few words of the query.
"""

from __future__ import annotations

import html
import re
from functools import cache, lru_cache

import snowballstemmer  # type: ignore[import-untyped]

NAME_LIMIT = 64
STEM_CACHE = 20_000  # words
WORD = re.compile(r"\w+", re.UNICODE)
TAG = re.compile(r"<[^>]+>")
CYRILLIC = re.compile(r"[а-яё]")
URL = re.compile(r"(?:\w+://|www\.)\S+", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w/])#(\w+)")
QUOTES = {'"': '"', "«": "»", "“": "”", "'": "'"}
# the commonest function words: a question is mostly these, and they match everything
_STOP = """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее
    мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть
    был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть
    надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда
    кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас
    были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот
    через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед
    иногда лучше чуть том нельзя такой им более всегда конечно всю между кто-нибудь
    a an the and or but if of at by for with about to from in on is are was were be been am
    do does did have has had i you he she it we they me my your our their this that these
    those what which who whom how why when where can could should would will shall may might
    any some there here not no so as than too very just also
"""
STOP_WORDS = frozenset(_STOP.split())


def fold(text: str) -> str:
    """Case and ё folded: what names and words are compared by."""
    return text.casefold().replace("ё", "е")


def normalise_name(name: str) -> str:
    """A note's name as stored: folded, inner spaces collapsed, at most NAME_LIMIT long."""
    return " ".join(fold(name).split())[:NAME_LIMIT]


def split_name(args: str) -> tuple[str, str]:
    """(name, the rest) from a command's arguments: a phrase in quotes or the first word;
    the rest keeps its own spacing. ("", "") when there is no name."""
    args = args.lstrip()
    if not args:
        return "", ""
    closing = QUOTES.get(args[0])
    if closing is not None:
        end = args.find(closing, 1)
        if end > 1:
            return normalise_name(args[1:end]), args[end + 1 :].lstrip()
    word, _, rest = args.partition(" ")
    first_line, newline, after = word.partition("\n")
    if newline:  # "/save name\ntext": the name ends at the line break
        return normalise_name(first_line), f"{after} {rest}".strip() if rest else after
    return normalise_name(word), rest.lstrip()


def plain(body: str) -> str:
    """The visible text of stored HTML."""
    return html.unescape(TAG.sub("", body))


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str:
    """One folded word's stem: Russian rules for Cyrillic, English ones otherwise (the
    commonest words are remembered: Snowball is pure Python)."""
    language = "russian" if CYRILLIC.search(word) else "english"
    return str(_stemmer(language).stemWord(word))


def words(text: str) -> list[str]:
    """The folded words of plain text, function words left out."""
    return [w for w in WORD.findall(fold(text)) if w not in STOP_WORDS and not w.isdigit()]


def stems(text: str) -> list[str]:
    """The distinct stems of plain text, in their first order."""
    return list(dict.fromkeys(stem(w) for w in words(text)))


def stems_column(*parts: str) -> str:
    """What an entry stores to be searched: its distinct stems between spaces (the leading
    and trailing spaces let `LIKE '% stem %'` match whole stems only)."""
    found = dict.fromkeys(s for part in parts for s in stems(part))
    return f" {' '.join(found)} " if found else " "


def coverage(query: list[str], stored: str) -> float:
    """The share of the query's stems an entry's stems column holds (0 to 1)."""
    if not query:
        return 0.0
    return sum(1 for s in query if f" {s} " in stored) / len(query)


def snippet(body: str, query: list[str], limit: int = 120) -> str:
    """Plain text around the first word whose stem the query has, at most `limit` long."""
    text = " ".join(plain(body).split())
    if len(text) <= limit:
        return text
    start = 0
    for match in WORD.finditer(text):
        if stem(fold(match.group())) in query:
            start = max(0, match.start() - limit // 4)
            break
    piece = text[start : start + limit]
    return ("…" if start else "") + piece + ("…" if start + limit < len(text) else "")


def hashtags(text: str) -> list[str]:
    """The folded `#name` words of a message, in order: not in a link (an anchor such as
    `…/setup#rules`) nor right after a letter, digit or "/" (`c#`, `issues/3#faq`)."""
    text = URL.sub(" ", text)
    return list(dict.fromkeys(fold(m) for m in HASHTAG.findall(text)))


def question_words(text: str) -> int | None:
    """For a message that asks a question (ends with "?" and has at least 3 words): its
    word count; otherwise None."""
    stripped = text.strip()
    if not stripped.endswith("?"):
        return None
    count = len(WORD.findall(stripped))
    return count if count >= 3 else None


def parse_tags(args: str) -> str:
    """Story tags from `/story career first-client` or `#career`: folded words, space-joined."""
    return " ".join(dict.fromkeys(fold(w) for w in WORD.findall(args)))[:200]
