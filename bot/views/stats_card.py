"""The /stats card: one PNG with the alive share, the weekday x hour heatmap in the chat's
time zone and the daily trend of alive people and messages.

Pure: the service's values in, PNG bytes out. Rendered with matplotlib's object API
(`Figure` + the Agg canvas, never pyplot, which keeps global state); `render_card` runs it
in a worker thread so the event loop keeps handling updates. DejaVu Sans, matplotlib's
default font, has the Cyrillic letters. A figure withheld by the service (None) reads "< 3".
"""

from __future__ import annotations

import asyncio
import io
import math
import threading
from html import escape

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.i18n import t
from bot.messages import plain_text, utf16_length
from bot.services.health import HealthReport
from bot.services.health_rhythm import Rhythm, TrendDay
from bot.views.stats import report_text

__all__ = ["caption", "card_png", "digest_text", "render_card"]

HIDDEN = "< 3"
CAPTION_LIMIT = 1024  # Telegram's, in UTF-16 units of the caption without its markup
DIGEST_LINES = 10
SIZE = (9.0, 6.6)  # inches; at DPI this is a 900 x 660 picture, sharp on a phone
DPI = 100
ALIVE_COLOUR = "#2a9d8f"
MESSAGES_COLOUR = "#e76f51"
INK, MUTED = "#222222", "#777777"
# matplotlib's caches (fonts, text layout) are shared by every figure: one render at a time
_LOCK = threading.Lock()


def _shown(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _ratio(report: HealthReport) -> str | None:
    if report.members is None or report.members <= 0 or report.alive is None:
        return None
    return f"{round(report.alive * 100 / report.members)}%"


def _headline(ax: Axes, report: HealthReport, lang: str, title: str) -> None:
    ax.set_axis_off()
    head = t(lang, "stats_card.title", chat=title, days=report.days)
    ax.text(0, 1, head, fontsize=12, color=MUTED, va="top", parse_math=False)
    ratio = _ratio(report)
    if report.members is None:
        big = t(lang, "stats_card.alive_no_count", alive=_shown(report.alive))
    else:
        big = t(
            lang,
            "stats_card.alive",
            alive=_shown(report.alive),
            members=report.members,
            ratio=ratio or "?",
        )
    ax.text(0, 0.55, big, fontsize=20, color=INK, weight="bold", va="top", parse_math=False)
    change = "" if report.change is None else f"{report.change:+d}"
    before = t(
        lang,
        "stats_card.before" if change else "stats_card.before_no_change",
        before=_shown(report.alive_before),
        change=change,
    )
    ax.text(0, 0.0, before, fontsize=11, color=MUTED, va="top", parse_math=False)


def _heatmap(ax: Axes, rhythm: Rhythm, lang: str) -> None:
    ax.set_title(
        t(lang, "stats_card.heatmap", zone=rhythm.zone),
        loc="left",
        fontsize=11,
        color=INK,
        parse_math=False,
    )
    days = t(lang, "stats_card.weekdays").split()
    ax.set_yticks(range(len(days)), days, fontsize=9)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)], fontsize=9)
    ax.tick_params(length=0)
    if rhythm.heatmap is None:
        ax.set_xlim(-0.5, 23.5)
        ax.set_ylim(6.5, -0.5)
        ax.text(11.5, 3, HIDDEN, fontsize=28, color=MUTED, ha="center", va="center")
        return
    image = ax.imshow(rhythm.heatmap, aspect="auto", cmap="YlOrRd", interpolation="nearest")
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.025, pad=0.01)
    bar.ax.tick_params(labelsize=8, length=0)
    bar.outline.set_visible(False)


def _values(days: list[TrendDay], pick: str) -> list[float]:
    """The series with NaN where a figure is hidden: matplotlib leaves a gap there."""
    values = (getattr(day, pick) for day in days)
    return [math.nan if v is None else float(v) for v in values]


def _trend(ax: Axes, trend: list[TrendDay], lang: str) -> None:
    ax.set_title(t(lang, "stats_card.trend"), loc="left", fontsize=11, color=INK)
    x = list(range(len(trend)))
    alive = _values(trend, "alive")
    messages = _values(trend, "messages")
    ax.plot(x, alive, color=ALIVE_COLOUR, linewidth=2, marker="o", markersize=3)
    ax.set_ylabel(t(lang, "stats_card.alive_axis"), color=ALIVE_COLOUR, fontsize=9)
    ax.tick_params(labelsize=8)
    other = ax.twinx()
    other.plot(x, messages, color=MESSAGES_COLOUR, linewidth=1.5, marker="o", markersize=2)
    other.set_ylabel(t(lang, "stats_card.messages_axis"), color=MESSAGES_COLOUR, fontsize=9)
    other.tick_params(labelsize=8)
    for axis, values in ((ax, alive), (other, messages)):
        top = max((v for v in values if not math.isnan(v)), default=0.0)
        axis.set_ylim(0, max(top * 1.15, 3.0))
        axis.spines["top"].set_visible(False)
    step = max(1, len(trend) // 8)
    ticks = x[::step]
    ax.set_xticks(ticks, [trend[i].day.strftime("%d.%m") for i in ticks])
    if all(math.isnan(v) for v in alive + messages):
        ax.text(0.5, 0.5, HIDDEN, transform=ax.transAxes, fontsize=20, color=MUTED, ha="center")


def card_png(report: HealthReport, rhythm: Rhythm, lang: str, title: str) -> bytes:
    """The card as PNG bytes (a chat without data has no card: see `stats.no_data`)."""
    with _LOCK:
        figure = Figure(figsize=SIZE, dpi=DPI, facecolor="white")
        FigureCanvasAgg(figure)
        grid = figure.add_gridspec(
            3, 1, height_ratios=(0.55, 1.5, 1.1), hspace=0.45, left=0.08, right=0.9
        )
        grid.update(top=0.96, bottom=0.06)
        _headline(figure.add_subplot(grid[0]), report, lang, title)
        _heatmap(figure.add_subplot(grid[1]), rhythm, lang)
        _trend(figure.add_subplot(grid[2]), rhythm.trend, lang)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


async def render_card(report: HealthReport, rhythm: Rhythm, lang: str, title: str) -> bytes:
    """`card_png` in a worker thread: a render takes a good part of a second of CPU."""
    return await asyncio.to_thread(card_png, report, rhythm, lang, title)


def caption(lang: str, title: str, days: int) -> str:
    """The photo's short caption (HTML); the text twin follows as its own message."""
    return t(lang, "stats_card.caption", chat=escape(title), days=days)


def digest_text(lang: str, title: str, report: HealthReport, rhythm: Rhythm) -> str:
    """The weekly note's caption: at most ten lines, the figures as in the /stats text twin
    plus the busiest hour, cut to fit Telegram's caption limit."""
    extra = []
    if rhythm.busiest is not None:
        day, hour = rhythm.busiest
        weekday = t(lang, "stats_card.weekdays").split()[day]
        extra.append(
            t(lang, "stats_card.busiest", day=weekday, hour=f"{hour:02d}", zone=rhythm.zone)
        )
    head = t(lang, "stats_card.digest_title", chat=escape(title))
    footer = t(lang, "stats_card.digest_footer")
    figures = report_text(lang, title, report).split("\n")[1:-1]  # its title and footer go
    figures = figures[: DIGEST_LINES - 2 - len(extra)]
    while True:
        text = "\n".join([head, *figures, *extra, footer])
        if not figures or utf16_length(plain_text(text)) <= CAPTION_LIMIT:
            return text
        figures.pop()
