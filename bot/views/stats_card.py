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
from typing import TYPE_CHECKING

from bot.i18n import t
from bot.messages import plain_text, utf16_length
from bot.services.health import HealthReport
from bot.services.health_rhythm import Rhythm, TrendDay
from bot.views.stats import report_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["caption", "card_png", "digest_text", "render_card"]

HIDDEN = "< 3"
CAPTION_LIMIT = 1024  # Telegram's, in UTF-16 units of the caption without its markup
DIGEST_LINES = 10
SIZE = (9.0, 6.6)  # inches; at DPI this is a 900 x 660 picture, sharp on a phone
DPI = 100
ALIVE_COLOUR = "#2a9d8f"
MESSAGES_COLOUR = "#e76f51"
INK, MUTED = "#222222", "#777777"
LEFT = 0.08  # the left margin, as a share of the width
# matplotlib's caches (fonts, text layout) are shared by every figure: one render at a time
_LOCK = threading.Lock()


def _shown(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _ratio(report: HealthReport) -> str | None:
    if report.members is None or report.members <= 0 or report.alive is None:
        return None
    return f"{round(report.alive * 100 / report.members)}%"


def _headline(figure: Figure, report: HealthReport, lang: str, title: str) -> None:
    """Figure-level text, not an Axes: an Axes (even hidden) costs its ticks."""
    head = t(lang, "stats_card.title", chat=title, days=report.days)
    figure.text(LEFT, 0.965, head, fontsize=12, color=MUTED, va="top", parse_math=False)
    if report.members is None:
        big = t(lang, "stats_card.alive_no_count", alive=_shown(report.alive))
    else:
        ratio = _ratio(report) or "?"
        big = t(
            lang,
            "stats_card.alive",
            alive=_shown(report.alive),
            members=report.members,
            ratio=ratio,
        )
    figure.text(LEFT, 0.915, big, fontsize=20, color=INK, weight="bold", va="top", parse_math=False)
    change = "" if report.change is None else f"{report.change:+d}"
    before = t(
        lang,
        "stats_card.before" if change else "stats_card.before_no_change",
        before=_shown(report.alive_before),
        change=change,
    )
    figure.text(LEFT, 0.845, before, fontsize=11, color=MUTED, va="top", parse_math=False)


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
    ax.set_xticks(range(0, 24, 3), [f"{h:02d}" for h in range(0, 24, 3)], fontsize=9)
    ax.tick_params(length=0)
    if rhythm.heatmap is None:
        ax.set_xlim(-0.5, 23.5)
        ax.set_ylim(6.5, -0.5)
        ax.text(11.5, 3, HIDDEN, fontsize=28, color=MUTED, ha="center", va="center")
        return
    # no colour bar (another Axes); the busiest cell's count is written in it instead
    ax.imshow(rhythm.heatmap, aspect="auto", cmap="YlOrRd", interpolation="nearest")
    for spine in ax.spines.values():
        spine.set_visible(False)
    if rhythm.busiest is not None:
        day, hour = rhythm.busiest
        top = str(rhythm.heatmap[day][hour])
        ax.text(hour, day, top, fontsize=7, color="white", ha="center", va="center")


def _values(days: list[TrendDay], pick: str) -> list[float]:
    """The series with NaN where a figure is hidden: matplotlib leaves a gap there."""
    values = (getattr(day, pick) for day in days)
    return [math.nan if v is None else float(v) for v in values]


def _trend(ax: Axes, trend: list[TrendDay], lang: str) -> None:
    """Alive people as a line on the axis; messages as a shaded area scaled to the same
    height, its peak written beside it (a second y axis would cost a second Axes)."""
    ax.set_title(t(lang, "stats_card.trend"), loc="left", fontsize=11, color=INK)
    x = list(range(len(trend)))
    alive = _values(trend, "alive")
    messages = _values(trend, "messages")
    top = max((v for v in alive if not math.isnan(v)), default=0.0)
    ceiling = max(top * 1.15, 3.0)
    peak = max((v for v in messages if not math.isnan(v)), default=0.0)
    if peak > 0:
        scaled = [v * top / peak if top else v * ceiling / peak / 1.15 for v in messages]
        ax.fill_between(x, scaled, color=MESSAGES_COLOUR, alpha=0.3, linewidth=0)
    ax.plot(x, alive, color=ALIVE_COLOUR, linewidth=2)
    ax.set_ylim(0, ceiling)
    ax.set_xlim(-0.5, max(len(trend) - 0.5, 0.5))
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))  # few ticks: each one costs
    ax.tick_params(labelsize=8, length=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    step = max(1, math.ceil(len(trend) / 6))
    ticks = x[::step]
    ax.set_xticks(ticks, [trend[i].day.strftime("%d.%m") for i in ticks])
    legend = (  # above the plot, right-aligned, in the colours of what they name
        (t(lang, "stats_card.alive_axis"), ALIVE_COLOUR, 1.13),
        (t(lang, "stats_card.messages_peak", peak=f"{peak:.0f}"), MESSAGES_COLOUR, 1.03),
    )
    for text, colour, height in legend:
        ax.text(1.0, height, text, transform=ax.transAxes, color=colour, fontsize=9, ha="right")
    if all(math.isnan(v) for v in alive + messages):
        ax.text(0.5, 0.4, HIDDEN, transform=ax.transAxes, fontsize=20, color=MUTED, ha="center")


def card_png(report: HealthReport, rhythm: Rhythm, lang: str, title: str) -> bytes:
    """The card as PNG bytes (a chat without data has no card: see `stats.no_data`)."""
    with _LOCK:
        # imported on the first card, not at start-up: matplotlib costs the bot's start 0.8 s
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=SIZE, dpi=DPI, facecolor="white")
        FigureCanvasAgg(figure)
        grid = figure.add_gridspec(2, 1, height_ratios=(1.5, 1.1), hspace=0.35)
        grid.update(left=LEFT, right=0.91, top=0.74, bottom=0.06)
        _headline(figure, report, lang, title)
        _heatmap(figure.add_subplot(grid[0]), rhythm, lang)
        _trend(figure.add_subplot(grid[1]), rhythm.trend, lang)
        out = io.BytesIO()
        # zlib's fastest level: a fifth larger file, a fraction of the encoding time
        figure.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
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
