"""The buddy matching rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.matching import Candidate, choose_buddy, normalise_interests

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cand(
    user_id: int, interests: str = "", load: int = 0, days_ago: int | None = None
) -> Candidate:
    last = None if days_ago is None else T0 - timedelta(days=days_ago)
    return Candidate(user_id, frozenset(normalise_interests(interests)), load, last)


def test_interests_are_normalised_in_both_alphabets() -> None:
    assert normalise_interests("  Йога, YOGA ;йога,  Hiking  trips #ёлки ") == [
        "йога",
        "yoga",
        "hiking trips",
        "елки",
    ]
    assert normalise_interests("!!!, ,,") == []
    assert len(normalise_interests(",".join(str(i) for i in range(30)))) == 10
    assert normalise_interests("x" * 100) == ["x" * 30]


def test_most_shared_interests_win() -> None:
    pool = [cand(1, "chess", load=0), cand(2, "yoga, hiking", load=2), cand(3, "yoga", load=0)]
    chosen = choose_buddy(pool, frozenset({"yoga", "hiking"}), max_load=3, excluded=set())
    assert chosen is not None and chosen.user_id == 2


def test_then_lowest_load_then_least_recently_assigned() -> None:
    pool = [cand(1, load=2, days_ago=30), cand(2, load=1, days_ago=1), cand(3, load=1, days_ago=9)]
    assert choose_buddy(pool, frozenset(), 3, set()).user_id == 3  # type: ignore[union-attr]
    never = [cand(4, load=1, days_ago=2), cand(5, load=1)]
    assert choose_buddy(never, frozenset(), 3, set()).user_id == 5  # type: ignore[union-attr]


def test_full_buddies_past_buddies_and_the_newcomer_are_skipped() -> None:
    pool = [cand(1, "yoga", load=3), cand(2, "yoga"), cand(3)]
    assert choose_buddy(pool, frozenset({"yoga"}), 3, excluded={2}).user_id == 3  # type: ignore[union-attr]
    assert choose_buddy(pool, frozenset({"yoga"}), 3, excluded={2, 3}) is None
    assert choose_buddy([], frozenset(), 3, set()) is None
