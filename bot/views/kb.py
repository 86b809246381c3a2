"""What the knowledge base says: notes, search results, story consent and approval, the
private suggestion. Pure: the service's values in, text and buttons out."""

from __future__ import annotations

from html import escape

from bot.i18n import t
from bot.notifier import Button, Keyboard
from bot.services.kb import Entry, Hit
from bot.services.kb.text import plain, snippet
from bot.views.callbacks import KbConsentAnswer, KbDecide, KbHelped, KbOpen, KbWin

TITLE_LIMIT = 60
STORY_PREVIEW = 300
CARD_PREVIEW = 1000  # an approval card shows the start of a long story (the whole is kept)
TEXT_LIMIT = 4096  # Telegram's limit on a message's visible text
ROOM = 300  # kept free for the byline and the link under a story


def say(lang: str, key: str, **values: object) -> str:
    """A plain knowledge-base text by its key under `kb.` (values are escaped)."""
    return t(lang, f"kb.{key}", **{k: escape(str(v)) for k, v in values.items()})


def saved(lang: str, name: str, created: bool) -> str:
    return say(lang, "saved" if created else "replaced", name=name)


def cleared(lang: str, name: str, found: bool) -> str:
    return say(lang, "cleared" if found else "no_note", name=name)


def notes_list(lang: str, names: list[str]) -> str:
    if not names:
        return say(lang, "no_notes")
    shown = ", ".join(f"<code>#{escape(n)}</code>" if " " not in n else escape(n) for n in names)
    return t(lang, "kb.notes", count=len(names), names=shown)


def title(entry: Entry) -> str:
    """An entry's one-line title: a note's name, or a story's first words."""
    if entry.is_note and entry.name:
        return entry.name
    text = " ".join(plain(entry.body).split())
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


def message_link(chat_id: int, message_id: int) -> str | None:
    """t.me link to a supergroup's message (basic groups have none)."""
    digits = str(chat_id)
    if not digits.startswith("-100"):
        return None
    return f"https://t.me/c/{digits[4:]}/{message_id}"


def byline(lang: str, entry: Entry) -> str:
    who = escape(entry.author) if entry.author else t(lang, "kb.anonymous")
    tags = " ".join(f"#{escape(tag)}" for tag in entry.tags.split())
    return t(lang, "kb.byline", author=who, tags=tags).rstrip()


def shortened(body: str, limit: int) -> str:
    """Stored HTML as is when its visible text fits in `limit`; otherwise the start of its
    plain text (formatting dropped: cutting HTML could break a tag) and "…"."""
    text = plain(body)
    units = text.encode("utf-16-le")  # Telegram counts UTF-16 code units
    if len(units) // 2 <= limit:
        return body
    cut = units[: 2 * (limit - 1)].decode("utf-16-le", errors="ignore")  # no half emoji
    return escape(cut.rstrip()) + "…"


def entry_text(lang: str, entry: Entry) -> str:
    """The HTML to send (a text, or a file's caption); a story with its byline and link
    (a story near Telegram's limit is shortened: the link leads to the whole)."""
    if entry.is_note:
        return entry.body
    room = ROOM + len(entry.tags)
    parts = [shortened(entry.body, TEXT_LIMIT - room), "", byline(lang, entry)]
    link = message_link(entry.chat_id, entry.message_id) if entry.message_id else None
    if link:
        parts.append(t(lang, "kb.original", link=link))
    return "\n".join(parts)


def helped_button(lang: str, entry_id: int) -> Keyboard:
    return [[Button(t(lang, "kb.helped_button"), data=KbHelped(id=entry_id).pack())]]


def results(lang: str, query: str, hits: list[Hit]) -> tuple[str, Keyboard | None]:
    """/kb: the top entries with a snippet each and a button to open each."""
    if not hits:
        return say(lang, "nothing_found", query=query), None
    lines = [say(lang, "found", query=query)]
    keyboard: Keyboard = []
    for number, hit in enumerate(hits, 1):
        entry = hit.entry
        kind = t(lang, f"kb.kind.{entry.kind}")
        lines.append(f"{number}. <b>{escape(title(entry))}</b> · {kind}")
        piece = snippet(entry.body, list(hit.stems))
        if piece and piece != title(entry):
            lines.append(f"   <i>{escape(piece)}</i>")
        keyboard.append([Button(f"{number}. {title(entry)[:40]}", data=KbOpen(id=entry.id).pack())])
    return "\n".join(lines), keyboard


def suggestion(lang: str, chat_title: str, hit: Hit) -> tuple[str, Keyboard]:
    """The private word to a newcomer whose question in the group an entry answers."""
    text = t(
        lang,
        "kb.suggestion",
        chat=escape(chat_title),
        title=escape(title(hit.entry)),
        snippet=escape(snippet(hit.entry.body, list(hit.stems))),
    )
    return text, [[Button(t(lang, "kb.open_button"), data=KbOpen(id=hit.entry.id).pack())]]


def consent_prompt(
    lang: str, consent_id: int, chat_title: str, asker: str, text: str
) -> tuple[str, Keyboard]:
    """To the author, privately: may this message become a story?"""
    preview = " ".join(plain(text).split())
    if len(preview) > STORY_PREVIEW:
        preview = preview[: STORY_PREVIEW - 1] + "…"
    body = t(lang, "kb.consent", chat=escape(chat_title), asker=escape(asker), text=escape(preview))
    keys = (("named", "n"), ("anonymous", "a"), ("no", "x"))
    return body, [
        [
            Button(
                t(lang, f"kb.consent_{key}"),
                data=KbConsentAnswer(id=consent_id, choice=value).pack(),
            )
        ]
        for key, value in keys
    ]


def pending_story(lang: str, entry: Entry, chat_title: str) -> tuple[str, Keyboard]:
    """One story awaiting approval (the start of a long one), with its two buttons; sent
    privately to whoever asked, so the header names the chat."""
    head = say(lang, "pending_in", chat=chat_title)
    text = "\n".join([head, "", shortened(entry.body, CARD_PREVIEW), "", byline(lang, entry)])
    return text, [
        [
            Button(t(lang, "kb.approve"), data=KbDecide(id=entry.id, ok="y").pack()),
            Button(t(lang, "kb.reject"), data=KbDecide(id=entry.id, ok="n").pack()),
        ]
    ]


def stories_list(lang: str, entries: list[Entry], tag: str | None) -> list[str]:
    if not entries:
        return [say(lang, "no_stories_tag", tag=tag) if tag else say(lang, "no_stories")]
    lines = [say(lang, "stories_tag", tag=tag) if tag else say(lang, "stories")]
    for entry in entries:
        link = message_link(entry.chat_id, entry.message_id) if entry.message_id else None
        name = escape(title(entry))
        shown = f'<a href="{link}">{name}</a>' if link else name
        lines.append(f"• {shown} — {byline(lang, entry)}")
    return lines


def unused_list(lang: str, chat_title: str, entries: list[Entry]) -> list[str]:
    if not entries:
        return [say(lang, "unused_none", chat=chat_title)]
    lines = [say(lang, "unused", chat=chat_title, count=len(entries))]
    lines += [f"• {escape(title(e))} · {t(lang, f'kb.kind.{e.kind}')}" for e in entries]
    return lines


def win_offer(lang: str, round_id: int, win: str) -> tuple[str, Keyboard]:
    """After a check-in whose win the person shared: keep it as a story too?"""
    keys = (("named", "n"), ("anonymous", "a"), ("no", "x"))
    text = t(lang, "kb.win_offer", text=escape(win[:STORY_PREVIEW]))
    return text, [
        [Button(t(lang, f"kb.consent_{key}"), data=KbWin(round=round_id, choice=value).pack())]
        for key, value in keys
    ]
