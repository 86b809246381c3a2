"""The knowledge base's words: note names, stems of Russian and English word forms, the
share of a question an entry covers, snippets, hashtags, and the formatted tail of /save."""

from __future__ import annotations

from aiogram.types import MessageEntity

from bot.services.kb.text import (
    coverage,
    hashtags,
    normalise_name,
    parse_tags,
    question_words,
    snippet,
    split_name,
    stem,
    stems,
    stems_column,
)
from bot.views.kb import shortened
from handlers.kb import html_from


def test_names_are_one_word_or_a_phrase_in_quotes_any_case_yo_is_ye() -> None:
    assert split_name("FAQ read the rules") == ("faq", "read the rules")
    assert split_name('"Первый  Клиент" начните с друзей') == ("первый клиент", "начните с друзей")
    assert split_name("«Ёлка» в декабре") == ("елка", "в декабре")
    assert split_name("faq\nline one\nline two") == ("faq", "line one\nline two")
    assert split_name("   ") == ("", "")
    assert normalise_name("ЁЖИК") == "ежик"


def test_word_forms_share_a_stem_in_russian_and_english() -> None:
    assert stem("наставника") == stem("наставник") == stem("наставники")
    assert stem("buddies") == stem("buddy")
    assert stems("Как найти наставника?") == [stem("найти"), stem("наставника")]  # "как" is out
    column = stems_column("наставник", "Напишите /buddy и бот подберёт наставника")
    assert column.startswith(" ") and column.endswith(" ")
    assert coverage([stem("наставников"), stem("погода")], column) == 0.5


def test_snippet_starts_near_the_first_matching_word() -> None:
    body = "Вступление. " * 30 + "Главное: <b>наставник</b> поможет с первым клиентом."
    piece = snippet(body, [stem("наставника")], limit=60)
    assert "наставник" in piece and piece.startswith("…") and "<b>" not in piece
    assert snippet("short &amp; sweet", []) == "short & sweet"


def test_hashtags_questions_and_tags() -> None:
    assert hashtags("see #FAQ and #ёлка, #faq again") == ["faq", "елка"]
    assert question_words("How do I find a buddy?") == 6
    assert question_words("Buddy?") is None
    assert question_words("I found a buddy.") is None
    assert parse_tags("Career #first-client career") == "career first client"


def test_the_text_after_the_name_keeps_its_formatting() -> None:
    text = "/save faq 👋 Read the rules first"
    start = text.index("👋")
    bold = MessageEntity(
        type="bold", offset=len("/save faq 👋 Read the ".encode("utf-16-le")) // 2, length=5
    )
    command = MessageEntity(type="bot_command", offset=0, length=5)
    assert html_from(text, [command, bold], start) == "👋 Read the <b>rules</b> first"
    spanning = MessageEntity(type="italic", offset=6, length=8)  # "faq 👋 R" reaches over
    assert html_from(text, [spanning], start) == "<i>👋 R</i>ead the rules first"


def test_a_hash_inside_a_link_or_a_word_is_no_hashtag() -> None:
    """Finding 10: anchors in links name no note."""
    text = "Read https://docs.example.com/setup#rules and example.org/issues/3#faq, c#sharp"
    assert hashtags(text) == []
    assert hashtags("see www.example.com/#/rules or (#rules) #faq") == ["rules", "faq"]
    assert hashtags("#rules at the start, and after a line break:\n#faq") == ["rules", "faq"]


def test_a_long_story_is_shortened_in_telegram_s_units() -> None:
    """Finding 6: emoji count twice towards Telegram's limit; no half emoji is left."""
    assert shortened("<b>short</b>", 10) == "<b>short</b>"
    cut = shortened("🙂" * 100, 11)
    assert cut == "🙂" * 5 + "…" and len(cut.encode("utf-16-le")) // 2 <= 11
    assert shortened("a &lt; b " * 5, 6) == "a &lt; b…"
