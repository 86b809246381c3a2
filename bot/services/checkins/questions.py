"""A chat's check-in questions: parsing what an admin typed, and the stored JSON form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

MAX_QUESTIONS = 5
MAX_QUESTION_LENGTH = 300


@dataclass(frozen=True)
class Question:
    text: str
    support: bool = False  # answers go privately to the buddy or the admins; skippable


def defaults(well: str, hard: str, support: str) -> list[Question]:
    """The default set, from its texts in the reader's language (see the check-in views)."""
    return [Question(well), Question(hard), Question(support, support=True)]


def parse_questions(text: str) -> list[Question]:
    """One question per line; a line starting with `?` is the (skippable) support question.

    ValueError when there are not 1–5 questions or one is too long."""
    questions = []
    for line in text.splitlines():
        line = line.strip().lstrip("-•").strip()
        if not line:
            continue
        support = line.startswith("?")
        line = line.lstrip("?").strip()
        if not line or len(line) > MAX_QUESTION_LENGTH:
            raise ValueError("empty or too long")
        questions.append(Question(line, support))
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ValueError("1 to 5 questions")
    if all(q.support for q in questions):
        raise ValueError("the win shared in the digest must not be a support request")
    return questions


def encode(questions: Sequence[Question]) -> str:
    """The stored form: a JSON list of {"text", "support"}."""
    return json.dumps([{"text": q.text, "support": q.support} for q in questions])


def decode(raw: str | None, default: Sequence[Question]) -> list[Question]:
    """The stored questions, or `default` when the chat has none of its own (None)."""
    if raw is None:
        return list(default)
    return [Question(str(q["text"]), bool(q.get("support"))) for q in json.loads(raw)]


def decode_answers(raw: str | None) -> list[str | None]:
    """A person's stored answers (a JSON list; a skipped question is null)."""
    value = json.loads(raw or "[]")
    return [a if isinstance(a, str) else None for a in value]


def encode_answers(answers: Sequence[str | None]) -> str:
    return json.dumps(list(answers), ensure_ascii=False)
