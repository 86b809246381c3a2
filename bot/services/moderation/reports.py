"""Reports: a member points the admins at a message; an admin decides with one button."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.notifier import Keyboard
from bot.services.moderation.parts import Deps, Part
from bot.services.moderation.punishments import Punishments
from bot.services.moderation.values import (
    REASON_LIMIT,
    REPORT_ACTIONS,
    REPORTS_PER_HOUR,
    Action,
    ReportResult,
)
from bot.services.people import Person
from bot.views import moderation as views
from models.moderation import ModerationRepository, Report
from models.users import UserRepository

SHOWN_REPORT = "report {}"
"""The audit reason of a reported message's text shown to admins (the report's id)."""


class Reports(Part):
    """Takes members' reports to the admins (log chat, else privately, else in the group)
    and carries out the first admin's decision."""

    def __init__(self, deps: Deps, punishments: Punishments) -> None:
        super().__init__(deps)
        self._punishments = punishments

    async def report(
        self,
        chat_id: int,
        message_id: int,
        reporter: Person,
        target: Person,
        text: str,
        reason: str,
    ) -> ReportResult:
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                repo = ModerationRepository(session)
                hour_ago = now - timedelta(hours=1)
                if await repo.reports_since(chat_id, reporter.id, hour_ago) >= REPORTS_PER_HOUR:
                    return ReportResult.TOO_MANY
                report_id = await repo.add_report(
                    Report(
                        chat_id=chat_id,
                        message_id=message_id,
                        reporter_id=reporter.id,
                        target_id=target.id,
                        reason=reason[:REASON_LIMIT],
                        text=text[:1000],
                        created_at=now,
                    )
                )
        except IntegrityError:
            return ReportResult.DUPLICATE  # this person already reported this message
        await self._audit.record(chat_id, reporter.id, target.id, Action.REPORT, reason)
        await self._deliver(chat_id, report_id, message_id, reporter, target, text, reason)
        return ReportResult.SENT

    async def _deliver(
        self,
        chat_id: int,
        report_id: int,
        message_id: int,
        reporter: Person,
        target: Person,
        text: str,
        reason: str,
    ) -> None:
        language = (await self._settings.get(chat_id)).language
        title = await self._audit.chat_title(chat_id)

        def card(shown: Person | None) -> tuple[str, Keyboard]:
            return views.report_card(
                language, report_id, chat_id, title, shown, target, message_id, text, reason
            )

        body, buttons = card(reporter)
        log_chat = await self._audit.log_chat(chat_id)
        if log_chat is not None and await self._notifier.send(log_chat, body, buttons):
            # whoever reads the log chat saw the reported text (no one admin to name)
            await self._audit.shown(chat_id, [None], target.id, SHOWN_REPORT.format(report_id))
            return
        delivered: list[int | None] = []
        for admin_id in sorted(await self._notifier.admins(chat_id) or ()):
            if admin_id == reporter.id:
                continue
            if await self._notifier.send(admin_id, body, buttons):
                delivered.append(admin_id)
        if delivered:
            await self._audit.shown(chat_id, delivered, target.id, SHOWN_REPORT.format(report_id))
        else:  # nobody reachable in private: ask in the group, without the reporter
            public, buttons = card(None)
            await self._notifier.send(chat_id, public, buttons, reply_to=message_id)

    async def resolve(
        self, report_id: int, admin_id: int, choice: str
    ) -> tuple[str, Report | None]:
        """An admin pressed a report button. Returns (result, report): result is the action
        taken, `not_admin`, `handled` (someone was first), `target_admin` or `missing`."""
        async with self._db.transaction() as session:
            report = await ModerationRepository(session).report(report_id)
        if report is None or choice not in REPORT_ACTIONS:
            return "missing", None
        if not await self._admins.is_admin(report.chat_id, admin_id):
            return "not_admin", report
        async with self._db.transaction() as session:
            claimed = await ModerationRepository(session).claim_report(
                report_id, choice, self._clock.now()
            )
            if not claimed:
                return "handled", report
            target_user = await UserRepository(session).get(report.target_id)
        if choice in ("warn", "mute", "ban") and await self._admins.is_admin(
            report.chat_id, report.target_id
        ):
            async with self._db.transaction() as session:  # let another choice be made
                await ModerationRepository(session).unclaim_report(report_id)
            return "target_admin", report
        target = Person(
            report.target_id,
            target_user.full_name if target_user else str(report.target_id),
            language_code=target_user.language_code if target_user else None,
        )
        await self._carry_out(report, admin_id, target, choice)
        return choice, report

    async def _carry_out(self, report: Report, admin_id: int, target: Person, choice: str) -> None:
        chat_id = report.chat_id
        config = await self._settings.get(chat_id)
        reason = report.reason or views.report_reason(config.language)
        if choice == "dismiss":
            return
        await self._notifier.delete(chat_id, report.message_id)
        if choice == "delete":
            await self._audit.record(chat_id, admin_id, report.target_id, Action.DELETE, reason)
        elif choice == "warn":
            await self._punishments.warn(chat_id, target, admin_id, reason)
        elif choice == "mute":
            await self._punishments.act(
                chat_id, admin_id, target, Action.MUTE, config.warn_mute, reason
            )
        elif choice == "ban":
            await self._punishments.act(chat_id, admin_id, target, Action.BAN, None, reason)
