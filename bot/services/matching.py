"""Pure rules for buddies: normalising interests and choosing a buddy for a newcomer."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_INTERESTS = 10
MAX_INTEREST_LENGTH = 30
_SEPARATORS = re.compile(r"[,;#\n/|]+")
_SPACES = re.compile(r"\s+")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def normalise_interests(text: str) -> list[str]:
    """Split free text into tags: lower case, single spaces, ё→е, no edge punctuation, no repeats.

    Works the same for Russian and English (`Йога, YOGA ; йога` → `йога, yoga`).
    """
    tags: list[str] = []
    for raw in _SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        tag = _SPACES.sub(" ", raw).strip().casefold().replace("ё", "е")
        tag = _EDGES.sub("", tag)[:MAX_INTEREST_LENGTH].strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_INTERESTS]


def parse_stored(value: str | None) -> frozenset[str]:
    return frozenset(tag for tag in (value or "").split(",") if tag)


@dataclass(frozen=True)
class Candidate:
    """A volunteer who could take a newcomer now."""

    user_id: int
    interests: frozenset[str]
    load: int
    last_assigned: datetime | None


def choose_buddy(
    candidates: list[Candidate],
    newcomer_interests: frozenset[str],
    max_load: int,
    excluded: set[int],
) -> Candidate | None:
    """Most shared interests, then lowest load, then the one assigned least recently.

    Volunteers at `max_load` and anyone in `excluded` (the newcomer, past buddies) are skipped.
    """
    eligible = [c for c in candidates if c.load < max_load and c.user_id not in excluded]
    if not eligible:
        return None
    never = datetime.min.replace(tzinfo=UTC)
    return min(
        eligible,
        key=lambda c: (
            -len(c.interests & newcomer_interests),
            c.load,
            c.last_assigned or never,
            c.user_id,
        ),
    )
