"""A chat's check-in questions: what an admin types, and the stored JSON."""

from __future__ import annotations

import pytest

from bot.services.checkins.questions import (
    Question,
    decode,
    decode_answers,
    defaults,
    encode,
    encode_answers,
    parse_questions,
)


def test_questions_one_per_line_with_a_skippable_support_question() -> None:
    questions = parse_questions("What went well?\n\n- What was hard?\n? Need help?")
    assert [q.text for q in questions] == ["What went well?", "What was hard?", "Need help?"]
    assert [q.support for q in questions] == [False, False, True]
    with pytest.raises(ValueError):
        parse_questions("\n".join(f"Q{i}" for i in range(6)))
    with pytest.raises(ValueError):
        parse_questions("   ")
    with pytest.raises(ValueError):
        parse_questions("x" * 301)


def test_a_set_of_only_support_questions_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_questions("? Help?\n? More help?")
    assert len(parse_questions("• Fine?\n" + "x" * 300)) == 2


def test_the_stored_form_round_trips_and_keeps_its_shape() -> None:
    questions = [Question("Как дела?"), Question("Help?", support=True)]
    raw = encode(questions)
    assert raw == (
        '[{"text": "\\u041a\\u0430\\u043a \\u0434\\u0435\\u043b\\u0430?", "support": false}, '
        '{"text": "Help?", "support": true}]'
    )
    assert decode(raw, []) == questions
    assert decode('[{"text": "Old row"}]', []) == [Question("Old row")]  # no "support" key


def test_no_stored_questions_means_the_defaults() -> None:
    default = defaults("Well?", "Hard?", "Support?")
    assert [q.support for q in default] == [False, False, True]
    assert decode(None, default) == default
    assert decode(encode([Question("Own")]), default) == [Question("Own")]


def test_answers_round_trip_and_anything_but_text_is_a_skip() -> None:
    answers = ["Всё хорошо", None, "ok"]
    assert encode_answers(answers) == '["Всё хорошо", null, "ok"]'
    assert decode_answers(encode_answers(answers)) == answers
    assert decode_answers(None) == []
    assert decode_answers('["a", 3, null]') == ["a", None, None]
