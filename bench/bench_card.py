"""Rendering the /stats card of a busy chat: 10,000 members, a heatmap with activity in every
hour and a 90-day trend, in Russian (Cyrillic labels) and English.

Printed: the median time of one render (wall clock, and the CPU time of this process, which
other processes on a shared machine do not inflate) against a baseline measured in the same
run, an empty Figure of the same size saved as PNG (what matplotlib costs with nothing drawn),
and the target: at most 300 ms. The first render of each language is a warm-up (fonts,
caches). The result is judged on the CPU time: the wall time of a render equals it on an idle
machine."""

from __future__ import annotations

import io
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.services.health import Funnel, HealthReport
from bot.services.health_rhythm import HOURS, WEEKDAYS, Rhythm, TrendDay
from bot.views.stats_card import DPI, SIZE, card_png

MEMBERS = 10_000
DAYS = 90
RUNS = 15
TARGET = 0.300  # seconds


def busy_chat(seed: int = 12) -> tuple[HealthReport, Rhythm]:
    rng = random.Random(seed)
    first = date(2026, 9, 1)
    trend = [
        TrendDay(first + timedelta(days=i), rng.randint(2500, 4000), rng.randint(8000, 20000))
        for i in range(DAYS)
    ]
    # quiet nights, busy evenings
    heatmap = [
        [rng.randint(50, 300) * (1 + 4 * (18 <= h <= 23)) for h in range(HOURS)]
        for _ in range(WEEKDAYS)
    ]
    report = HealthReport(
        days=DAYS,
        since=first,
        collecting=None,
        alive=3_812,
        alive_before=3_650,
        change=162,
        members=MEMBERS,
        messages=[day.messages or 0 for day in trend],
        messages_total=sum(day.messages or 0 for day in trend),
        funnel=Funnel(420, 390, 250),
        moderation={"warned": 2, "muted": 1, "banned": 0, "reported": 3},
        paid=None,
    )
    return report, Rhythm("Europe/Moscow", heatmap, trend)


def empty_figure() -> bytes:
    figure = Figure(figsize=SIZE, dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def median_time(work: Callable[[], bytes]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run, medians of RUNS after a warm-up."""
    work()
    wall, cpu = [], []
    for _ in range(RUNS):
        started, used = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    report, rhythm = busy_chat()
    title = "Кружок любителей настольных игр"
    base_wall, base_cpu = median_time(empty_figure)
    timings = {
        lang: median_time(lambda lang=lang: card_png(report, rhythm, lang, title))  # type: ignore[misc]
        for lang in ("ru", "en")
    }
    size = len(card_png(report, rhythm, "ru", title))
    print(f"chat:         {MEMBERS} members, {DAYS} days, heatmap {WEEKDAYS}x{HOURS}")
    print(
        f"baseline:     {base_wall * 1000:.0f} ms wall, {base_cpu * 1000:.0f} ms CPU "
        "(an empty Figure saved as PNG)"
    )
    for lang, (wall, cpu) in timings.items():
        print(
            f"card ({lang}):    {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU, median of "
            f"{RUNS} ({cpu / base_cpu:.1f}x the baseline's CPU); target <= {TARGET * 1000:.0f} ms"
        )
    print(f"png:          {size / 1024:.0f} KiB")
    ok = max(cpu for _, cpu in timings.values()) <= TARGET
    print("result:       " + ("ok" if ok else "NOT within target"))
    return 0 if ok else 1
