"""Thanks, the pure parts: which texts start with a thanks word, recent authors kept for 12
hours only, message links, the check-in digest's line, and the board/top texts that name
people without mentioning them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.messages import MESSAGE_LIMIT, utf16_length
from bot.services.checkins.digest import Tally
from bot.services.thanks import Named, RecentAuthors
from bot.services.thanks.notes import Farmed, message_link
from bot.views import checkins
from bot.views import thanks as views

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["Спасибо!", "спс", "Благодарю за помощь", "thanks a lot", "Thank you, Anna", "THX", "🙏"],
)
def test_thanks_words_in_both_languages(text: str) -> None:
    assert views.starts_with_thanks(text)


@pytest.mark.parametrize(
    "text", ["Thanksgiving is soon", "спсб", "I said thanks", "", "thank", "спасибочки нет"]
)
def test_other_texts_are_not_thanks(text: str) -> None:
    assert not views.starts_with_thanks(text)


async def test_recent_authors_are_kept_twelve_hours_and_bounded() -> None:
    authors = RecentAuthors(limit=2)
    authors.seen(-100, 1, 7, NOW)
    assert await authors.author(-100, 1, NOW + timedelta(hours=12)) == 7
    assert await authors.author(-100, 1, NOW + timedelta(hours=12, seconds=1)) is None
    authors.seen(-100, 2, 8, NOW)
    authors.seen(-100, 3, 9, NOW)  # over the limit: the oldest goes
    assert await authors.author(-100, 1, NOW) is None
    authors.seen(-100, 4, 9, NOW + timedelta(hours=13))  # older than 12 hours go too
    assert await authors.author(-100, 2, NOW) is None and await authors.author(-100, 4, NOW) == 9
    await authors.forget_person(9)
    assert await authors.author(-100, 4, NOW) is None


def test_links_only_for_supergroups() -> None:
    assert message_link(-1001234567890, 42) == "https://t.me/c/1234567890/42"
    assert message_link(-4567, 42) is None


def test_the_digest_mentions_the_week_s_thanks_only_when_there_were_some() -> None:
    assert "Thanks given this week: 3" in checkins.digest("en", Tally(participants=2, thanks=3))
    assert "Thanks" not in checkins.digest("en", Tally(participants=2))
    assert "Благодарностей за неделю: 3" in checkins.digest("ru", Tally(thanks=3))


def test_tops_name_people_as_plain_text() -> None:
    named = [Named("<Anna>", 3), Named("Boris", 1)]
    text = views.top("en", "Lounge", named)
    assert "1. &lt;Anna&gt; — 3 people" in text and "tg://user" not in text
    assert views.board("en", None).startswith("The thanks board is off")
    assert "Nobody on the thanks board" in views.board("en", [])


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_farming_note_fits_one_message_however_many_and_long_the_names(lang: str) -> None:
    longest = "🙂" * 64 + " " + "😀" * 64  # Telegram's longest first and last names
    farmed = [Farmed(f"{longest}{n}", f"<{longest}>", 3, 4) for n in range(50)]
    text = views.farming(lang, "🙂" * 128, farmed)
    assert utf16_length(text) <= MESSAGE_LIMIT  # the HTML, longer than what Telegram counts
    assert text.count("\n• ") == 20
    assert ("…and 30 more" if lang == "en" else "…и ещё 30") in text
    assert "&lt;🙂" in text  # still plain text, escaped
