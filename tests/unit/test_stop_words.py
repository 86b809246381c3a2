"""Stop words: whole words, any case, Cyrillic and ё-aware; rates like 5/10s."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.moderation.stopwords import compile_phrases, matches, normalise
from bot.services.settings import BadSettingValue, SettingsService, parse_rate


def hits(phrases: list[str], text: str) -> bool:
    pattern = compile_phrases([normalise(p) for p in phrases])
    assert pattern is not None
    return matches(pattern, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Это КАЗИНО!", True),
        ("казино.", True),
        ("казиноман", False),
        ("суперказино", False),
        ("play CASINO now", True),
        ("casinos", False),
    ],
)
def test_whole_words_in_any_case(text: str, expected: bool) -> None:
    assert hits(["казино", "casino"], text) is expected


def test_phrases_match_across_extra_spaces_and_yo() -> None:
    assert hits(["ещё раз"], "ЕЩЕ    раз, пожалуйста")
    assert not hits(["ещё раз"], "еще разок")


@pytest.mark.parametrize(
    "text",
    [
        "best ca\u200bsino here",  # zero-width space
        "best ca\u00adsino here",  # soft hyphen
        "best cas\u200dino here",  # zero-width joiner
        "best \ufeffcasino here",  # zero-width no-break space
        "best ｃａｓｉｎｏ here",  # full-width letters
        "best саsinо here",  # Cyrillic а and о among Latin letters
        "best САЅІNО here",  # capital Cyrillic look-alikes
        "best cásíñó here",  # accents
        "best c\u0301asino here",  # a combining accent
    ],
)
def test_disguised_stop_words_still_match(text: str) -> None:
    assert hits(["casino"], text)


@pytest.mark.parametrize(
    "text",
    ["это кaзинo", "это КАЗИНО", "это ка\u200bзино", "это ｋазино", "это казинo"],
)
def test_disguised_cyrillic_stop_words_still_match(text: str) -> None:
    assert hits(["казино"], text)


def test_a_stop_word_typed_in_disguise_is_stored_readable_and_still_matches() -> None:
    assert normalise("Ｃａ\u00adsino") == "casino"
    assert hits(["саsinо"], "casino")  # a phrase typed with look-alikes matches plain text
    assert not hits(["casino"], "casinos")
    assert not hits(["сено"], "ceнокос")


@pytest.mark.parametrize(
    ("stop_word", "innocent"),
    [
        ("рот", "a pot of tea"),  # all Cyrillic vs all Latin: look-alikes are not folded
        ("pot", "закрой рот"),
        ("мой", "мои друзья"),  # й is a letter of its own, not an accented и
        ("мои", "мой друг"),
        ("ено", "сено"),  # whole words only, also after folding
    ],
)
def test_innocent_words_are_not_taken_for_stop_words(stop_word: str, innocent: str) -> None:
    assert not hits([stop_word], innocent)


def test_regex_characters_in_a_phrase_are_literal() -> None:
    assert hits(["c++"], "я пишу на C++ каждый день")
    assert not hits(["a.b"], "axb")


def test_rates() -> None:
    assert parse_rate("5/10s") == (5, timedelta(seconds=10))
    service = SettingsService(None, "ru", "Europe/Moscow")  # type: ignore[arg-type]
    assert service.validate("flood_limit", " 7 / 1m ") == "7/1m"
    assert service.validate("flood_limit", "off") == "off"
    for bad in ("5", "five/10s", "0/10s", "5/2h", "/10s"):
        with pytest.raises(BadSettingValue):
            service.validate("flood_limit", bad)


def test_long_listings_are_split_between_lines_within_telegrams_limit() -> None:
    from bot.notifier import MESSAGE_LIMIT, split_lines, utf16_length

    lines = [f"• {'слово👍' * 40} {n}" for n in range(100)]
    chunks = split_lines(lines)
    assert len(chunks) > 1
    assert all(utf16_length(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines  # nothing lost, nothing reordered
