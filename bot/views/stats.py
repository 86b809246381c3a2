"""What /stats says: the text twin of the health figures, the daily CSV, the chat choice.
Pure: the service's values in, text (and keyboard, CSV bytes) out. A figure the service
withheld (None: fewer than 3 people) is shown as "< 3"."""

from __future__ import annotations

import csv
import io
from html import escape

from bot.i18n import t
from bot.notifier import Keyboard
from bot.services.health import BuddyEffect, Checkins, Cohort, DayFigures, Funnel, HealthReport
from bot.views.callbacks import StatsChat
from bot.views.common import chat_buttons
from models.ledger import LedgerKind

SPARKS = "▁▂▃▄▅▆▇█"
CSV_COLUMNS = (
    "date",
    "alive",
    "messages",
    "reactions",
    "joined",
    "verified",
    "left",
    "checkins",
    "promoted",
)


def sparkline(values: list[int]) -> str:
    """One bar per value, scaled to the largest (all-zero: the lowest bars)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round(v * (len(SPARKS) - 1) / top)] for v in values)


def figure(value: int | None) -> str:
    """A figure, or "< 3" (HTML-escaped) when fewer than 3 people make it up."""
    return "&lt; 3" if value is None else str(value)


def _alive_line(lang: str, report: HealthReport) -> str:
    if report.members is None:
        return t(lang, "stats.alive_no_count", alive=figure(report.alive))
    if report.alive is None or report.members <= 0:
        ratio = "?"
    else:
        ratio = f"{round(report.alive * 100 / report.members)}%"
    return t(lang, "stats.alive", alive=figure(report.alive), members=report.members, ratio=ratio)


def _before_line(lang: str, report: HealthReport) -> str:
    change = "" if report.change is None else f"{report.change:+d}"
    key = "stats.before" if change else "stats.before_no_change"
    return t(lang, key, before=figure(report.alive_before), change=change)


def percent(value: int | None) -> str:
    return "&lt; 3" if value is None else f"{value}%"


def wait(lang: str, minutes: float) -> str:
    """A wait in minutes, hours or days, whichever reads best."""
    if minutes < 60:
        return t(lang, "stats.minutes", n=round(minutes))
    if minutes < 48 * 60:
        return t(lang, "stats.hours", n=round(minutes / 60, 1 if minutes < 600 else None))
    return t(lang, "stats.days", n=round(minutes / 1440))


def _funnel_lines(lang: str, funnel: Funnel) -> list[str]:
    lines = [
        t(
            lang,
            "stats.funnel",
            joined=figure(funnel.joined),
            verified=figure(funnel.verified),
            wrote=figure(funnel.wrote),
            alive30=figure(funnel.alive_30),
            reached30=figure(funnel.reached_30),
            promoted=figure(funnel.promoted),
        )
    ]
    if funnel.first_messages != 0:
        replied, wrote = figure(funnel.replied), figure(funnel.first_messages)
        if funnel.reply_minutes is None:
            lines.append(t(lang, "stats.first_reply_none", replied=replied, wrote=wrote))
        else:
            spent = wait(lang, funnel.reply_minutes)
            lines.append(t(lang, "stats.first_reply", wait=spent, replied=replied, wrote=wrote))
    return lines


def _cohort_lines(lang: str, cohorts: list[Cohort]) -> list[str]:
    if not cohorts:
        return []
    lines = [t(lang, "stats.cohorts")]
    for cohort in cohorts:
        week, size = _date(lang, cohort.monday), figure(cohort.size)
        if not cohort.alive:
            lines.append(t(lang, "stats.cohort_waiting", week=week, size=size))
            continue
        shares = " ".join(percent(v) for v in cohort.alive)
        lines.append(t(lang, "stats.cohort", week=week, size=size, shares=shares))
    return lines


def _buddy_line(lang: str, effect: BuddyEffect) -> str:
    def side(value: int | None, people: int | None) -> str:
        return "—" if people == 0 else percent(value)  # nobody on that side yet

    return t(
        lang,
        "stats.buddies",
        with_share=side(effect.with_buddy, effect.with_people),
        with_people=figure(effect.with_people),
        without_share=side(effect.without, effect.without_people),
        without_people=figure(effect.without_people),
    )


def _checkin_lines(lang: str, checkins: Checkins) -> list[str]:
    weekly = " · ".join(figure(n) for n in checkins.weekly)
    s1, s2, s3, s4 = (figure(n) for n in checkins.streaks)
    return [
        t(lang, "stats.checkins", weekly=weekly),
        t(lang, "stats.streaks", s1=s1, s2=s2, s3=s3, s4=s4),
    ]


def report_text(lang: str, title: str, report: HealthReport) -> str:
    """The figures for the admin, privately."""
    lines = [
        t(lang, "stats.title", chat=escape(title), days=report.days),
        _alive_line(lang, report),
        _before_line(lang, report),
        t(
            lang,
            "stats.messages",
            total=figure(report.messages_total),
            spark=sparkline(report.messages) if report.messages_total is not None else "",
        ).rstrip(),
        *_funnel_lines(lang, report.funnel),
        *_cohort_lines(lang, report.cohorts),
    ]
    if report.buddies is not None:
        lines.append(_buddy_line(lang, report.buddies))
    if report.checkins is not None:
        lines.extend(_checkin_lines(lang, report.checkins))
    lines.append(
        t(lang, "stats.moderation", **{k: figure(v) for k, v in report.moderation.items()})
    )
    if report.paid is not None:
        paid, expired = report.paid
        lines.append(t(lang, "stats.paid", paid=figure(paid), expired=figure(expired)))
    if report.collecting is not None:
        lines.append(t(lang, "stats.collecting", since=_date(lang, report.collecting)))
    lines.append(t(lang, "stats.footer"))
    return "\n".join(lines)


def _date(lang: str, day: object) -> str:
    return format(day, t(lang, "stats.date_format"))


def no_data(lang: str, title: str) -> str:
    return t(lang, "stats.no_data", chat=escape(title))


def usage(lang: str) -> str:
    return t(lang, "stats.usage")


def delivered(lang: str, sent: bool) -> str:
    """Said in the group: the figures went privately, or the admin must start the bot first."""
    return t(lang, "stats.sent" if sent else "stats.start_first")


def not_anonymous(lang: str) -> str:
    return t(lang, "stats.not_anonymous")


def no_chats(lang: str) -> str:
    return t(lang, "stats.no_chats")


def choose_chat(
    lang: str, chats: list[tuple[int, str]], days: int, as_csv: bool
) -> tuple[str, Keyboard]:
    """/stats in private, several chats: which one."""
    keyboard = chat_buttons(
        chats, lambda chat_id: StatsChat(chat_id=chat_id, days=days, csv=as_csv)
    )
    return t(lang, "stats.choose_chat"), keyboard


def sent_below(lang: str) -> str:
    """The answer to the chat button: the figures follow."""
    return t(lang, "stats.sent_below")


def csv_name(chat_id: int, days: int) -> str:
    return f"stats_{abs(chat_id)}_{days}d.csv"


def csv_bytes(series: list[DayFigures]) -> bytes:
    """The daily series; "< 3" where fewer than 3 people make a figure. Left counts people
    who left and who were removed."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for day in series:
        cells = (
            day.alive(),
            day.figure(LedgerKind.MESSAGE.value),
            day.figure(LedgerKind.REACTION.value),
            day.figure(LedgerKind.JOINED.value),
            day.figure(LedgerKind.VERIFIED.value),
            day.figure(LedgerKind.LEFT.value, LedgerKind.REMOVED.value),
            day.figure(LedgerKind.CHECKIN_ANSWERED.value),
            day.figure(LedgerKind.PROMOTED.value),
        )
        writer.writerow([day.day.isoformat(), *("< 3" if c is None else c for c in cells)])
    return out.getvalue().encode()
