"""/kb search over a large knowledge base: 10,000 entries in one chat.

Seeds one chat with 10,000 entries (two thirds notes, a third approved stories; Russian and
English texts of 30-80 words: 15% from a vocabulary of community topics in many word forms,
the rest from 4,000 made-up words per language with a long tail, as real text has), stemmed
on write as the bot stores them (on PostgreSQL the full-text vector is filled by one UPDATE
after the bulk load, then the table is vacuumed and analysed). Then times `Search.find` (the
top 5 with their rows, as `/kb` runs it) for a set of queries, best of three each, on SQLite
and, when TEST_DATABASE_URL (or BENCH_DATABASE_URL) names a PostgreSQL database, on it too.

Baseline, measured in the same run on the same data: every entry's stems read into Python
and matched there (a search without the database's help). Printed per database: each
query's time, the slowest, the baseline's and their ratio. Target: every search in 200 ms.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, text

from bench.backends import best_of, on_each_backend
from bot.clock import FakeClock
from bot.db import Database, upgrade_async
from bot.services.kb.search import Search
from bot.services.kb.text import coverage, stems, stems_column
from models.kb import KbEntry

CHAT = -1009000000002
ENTRIES = 10_000
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TARGET_SECONDS = 0.2
QUERIES = (
    "наставника",
    "как найти первого клиента",
    "buddies for newcomers",
    "оплата звёздами",
    "pricing my work",
    "первый месяц было тяжело",
)
_RUSSIAN = """
наставник наставника наставники наставнику клиент клиента клиенты клиентов первый первого
первые месяц месяца месяцы оплата оплаты оплатил звёзды звёздами работа работы работу цена
цены ценой заказ заказа заказы встреча встречи встречу вопрос вопроса вопросы ответ ответа
сообщество сообщества участник участника участники правила правил проект проекта проекты
дизайн дизайна портфолио резюме собеседование собеседования деньги денег время времени
тяжело легко быстро медленно найти нашёл нашла искать ищу помог помогла помощь помощи
"""
_ENGLISH = """
buddy buddies newcomer newcomers mentor mentors client clients first month months pricing
price prices work working worked order orders meeting meetings question questions answer
answers community member members rules project projects design portfolio resume interview
money time hard easy fast slow find found finding help helped helping tip tips advice
"""
RUSSIAN, ENGLISH = _RUSSIAN.split(), _ENGLISH.split()

FILLER = 4_000  # other words per language: a real knowledge base has thousands
TOPICAL = 0.15  # the share of an entry's words from the topic vocabulary above
_SYLLABLES = {
    "ru": "ка ро ми на ле то су пе ва ди ло ны ра ко ви да те ми жа ща",
    "en": "ta ro mi ne lo sa pe va di ly no ra ko vi da te mu ja sh ck",
}
SYLLABLES = {language: parts.split() for language, parts in _SYLLABLES.items()}

Row = dict[str, Any]


def _filler(rng: random.Random, language: str) -> list[str]:
    """Made-up words, the commonest first (drawn with a long tail, as words are)."""
    parts = SYLLABLES[language]
    return ["".join(rng.choice(parts) for _ in range(rng.randint(2, 4))) for _ in range(FILLER)]


def _text(rng: random.Random, topical: list[str], filler: list[str]) -> str:
    words = []
    for _ in range(rng.randint(30, 80)):
        if rng.random() < TOPICAL:
            words.append(rng.choice(topical))
        else:
            words.append(filler[min(int(rng.paretovariate(0.8)) - 1, FILLER - 1)])
    return " ".join(words)


def _rows(rng: random.Random) -> list[Row]:
    rows = []
    fillers = {"ru": _filler(rng, "ru"), "en": _filler(rng, "en")}
    for number in range(ENTRIES):
        russian = rng.random() < 0.6
        topical = RUSSIAN if russian else ENGLISH
        body = _text(rng, topical, fillers["ru" if russian else "en"])
        note = number % 3 != 2
        name = f"note{number}" if note else None
        rows.append(
            {
                "chat_id": CHAT,
                "kind": "note" if note else "story",
                "name": name,
                "media": "text",
                "body": body,
                "tags": "",
                "anonymous": False,
                "status": "live",
                "created_at": NOW,
                "used_at": NOW,
                "views": rng.randint(0, 50),
                "helped": rng.randint(0, 5),
                "stems": stems_column(name or "", body),
            }
        )
    return rows


async def _seed(db: Database) -> None:
    rows = _rows(random.Random(15))
    async with db.transaction() as session:
        await session.execute(delete(KbEntry).where(KbEntry.chat_id == CHAT))
        for start in range(0, len(rows), 2_000):
            await session.execute(insert(KbEntry), rows[start : start + 2_000])
    if db.engine.dialect.name != "postgresql":
        return
    async with db.transaction() as session:  # what the bot computes on each write
        await session.execute(
            text(
                "UPDATE kb_entries SET tsv = to_tsvector('russian', coalesce(name, '') || ' ' "
                "|| body) || to_tsvector('english', coalesce(name, '') || ' ' || body) "
                "WHERE chat_id = :chat"
            ),
            {"chat": CHAT},
        )
    async with db.engine.connect() as connection:
        auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE kb_entries"))


async def _measure(name: str, url: str) -> bool:
    await upgrade_async(url)
    db = Database(url)
    try:
        started = time.perf_counter()
        await _seed(db)
        print(f"{name}: seeded {ENTRIES:,} entries in {time.perf_counter() - started:.1f} s")
        search = Search(db, FakeClock(NOW))

        async def baseline() -> None:
            wanted = stems(QUERIES[1])
            async with db.transaction() as session:
                rows = (await session.execute(select(KbEntry.id, KbEntry.stems))).all()
            sorted(rows, key=lambda row: coverage(wanted, row[1]), reverse=True)[:5]

        old = await best_of(baseline)
        worst = 0.0
        for query in QUERIES:

            async def find(query: str = query) -> None:
                assert await search.find(CHAT, query)

            took = await best_of(find)
            print(f"{name}:   {query!r} {took * 1000:.0f} ms")
            worst = max(worst, took)
        print(
            f"{name}: slowest of {len(QUERIES)} searches {worst * 1000:.0f} ms; baseline "
            f"(every entry's stems matched in Python) {old * 1000:.0f} ms; "
            f"ratio {worst / old:.2f}"
        )
        return worst <= TARGET_SECONDS
    finally:
        await db.close()


async def main() -> int:
    print(f"knowledge base: {ENTRIES:,} entries in one chat, top 5 per search")
    ok = await on_each_backend(_measure, "kb.db")
    ms = TARGET_SECONDS * 1000
    print(f"result: {'ok' if ok else 'NOT within target'} (each search <= {ms:.0f} ms)")
    return 0 if ok else 1
