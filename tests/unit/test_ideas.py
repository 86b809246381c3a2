"""The ideas board's pure parts: reading an admin's decision, and the post as drawn."""

from __future__ import annotations

from bot.services.ideas.cards import IdeaCard
from bot.views import ideas as views
from handlers.ideas import BadDecision, Decision, parse_decision
from models.ideas import IdeaStatus


def test_a_decision_is_a_status_word_and_an_id_with_an_optional_comment() -> None:
    assert parse_decision("done 12") == Decision(IdeaStatus.DONE, 12, "")
    assert parse_decision("Planned #7 next month ") == Decision(IdeaStatus.PLANNED, 7, "next month")
    assert parse_decision("отклонено 3 не сейчас") == Decision(IdeaStatus.DECLINED, 3, "не сейчас")


def test_what_is_wrong_with_a_decision_is_told_apart_from_an_idea() -> None:
    assert parse_decision("done") == BadDecision()
    assert parse_decision("done right, with tests") == BadDecision()
    assert parse_decision("finished #12") == BadDecision("finished")
    assert parse_decision("finished 12 chairs") is None  # an idea about twelve chairs
    assert parse_decision("a weekly call") is None
    assert parse_decision("") is None


def card(**changes: object) -> IdeaCard:
    values: dict[str, object] = {
        "id": 4,
        "chat_id": -1001000000001,
        "author_id": 3,
        "author": "Maria <3",
        "text": "Calls & <b>tea</b>",
        "status": IdeaStatus.OPEN,
        "comment": None,
        "up": 5,
        "down": 1,
        "message_id": 77,
    }
    values.update(changes)
    return IdeaCard(**values)  # type: ignore[arg-type]


def test_an_open_idea_has_its_counts_on_the_buttons_and_escapes_its_words() -> None:
    text, keyboard = views.post("en", card())
    assert text == "💡 <b>Idea #4</b> from Maria &lt;3\n\nCalls &amp; &lt;b&gt;tea&lt;/b&gt;"
    assert keyboard is not None
    assert [(b.text, b.data) for b in keyboard[0]] == [("👍 5", "idea:4:1"), ("👎 1", "idea:4:0")]


def test_a_decided_idea_shows_the_decision_and_no_buttons() -> None:
    text, keyboard = views.post(
        "ru", card(status=IdeaStatus.DONE, comment="к пятнице", author=None)
    )
    assert keyboard is None
    assert text.startswith("💡 <b>Идея #4</b> от бывшего участника")
    assert text.endswith("✅ сделана\nАдмины: к пятнице\nГолоса: 👍 5 · 👎 1")
