"""Text formatting like Telegram: HTML parse mode, entity detection, keyboard checks.

The HTML parser follows the rules of TDLib's ``parse_html`` (the code Telegram runs):
only the documented tags are allowed, only ``&lt; &gt; &amp; &quot;`` and numeric
character references are decoded (any other ``&`` stays literal), and errors carry the
same wording and UTF-8 byte offsets.  Offsets and lengths of entities are in UTF-16
code units.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64


class EntityParseError(ValueError):
    """The text can't be parsed; str(exc) is Telegram's wording after 'can't parse entities: '."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    begin_utf16: int
    argument: str = ""
    # pre: language taken from a nested <code class="language-...">
    language: str = ""


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at ``text[pos] == '&'``; None if it is not one."""
    end = pos + 1
    if end < len(text) and text[end] == "#":
        end += 1
        if end < len(text) and text[end] in "xX":
            end += 1
            start = end
            while end < len(text) and text[end] in "0123456789abcdefABCDEF":
                end += 1
            digits, base = text[start:end], 16
        else:
            start = end
            while end < len(text) and text[end].isdigit():
                end += 1
            digits, base = text[start:end], 10
        if not digits or end >= len(text) or text[end] != ";":
            return None
        code = int(digits, base)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), end + 1 - pos
    while end < len(text) and text[end].isascii() and text[end].isalpha():
        end += 1
    name = text[pos + 1 : end]
    if end >= len(text) or text[end] != ";" or name not in _NAMED_ENTITIES:
        return None
    return _NAMED_ENTITIES[name], end + 1 - pos


def parse_html(
    text: str, *, resolve_user: Callable[[int], JSON | None] | None = None
) -> tuple[str, list[JSON]]:
    """Parse Telegram-HTML into (plain text, entities). Raises EntityParseError."""
    out: list[str] = []
    pos16 = 0  # UTF-16 length of ``out``
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    n = len(text)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal pos16
        out.append(chunk)
        pos16 += utf16_len(chunk)

    def skip_spaces(j: int) -> int:
        while j < n and text[j].isspace():
            j += 1
        return j

    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                emit("&")
                i += 1
            else:
                emit(decoded[0])
                i += decoded[1]
            continue
        if char != "<":
            emit(char)
            i += 1
            continue

        begin = i
        at = _byte_offset(text, begin)
        i += 1
        if i < n and text[i] == "/":
            i += 1
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {at}")
            j = i
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i:j].lower()
            if end_name not in SUPPORTED_TAGS:
                raise EntityParseError(f'Unsupported end tag "{end_name}" at byte offset {at}')
            i = skip_spaces(j)
            if i >= n or text[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {at}")
            i += 1
            tag = stack.pop()
            if end_name != tag.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            entity = _close_tag(tag, stack, pos16, "".join(out), resolve_user)
            if entity is not None:
                entities.append(entity)
            continue

        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        name = text[i:j].lower()
        if name not in SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        i = j
        tag = _OpenTag(name, pos16)
        while True:
            i = skip_spaces(i)
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            if text[i] == ">":
                i += 1
                break
            j = i
            while j < n and (text[j].isalnum() or text[j] in "-_"):
                j += 1
            attr = text[i:j].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {at}'
                )
            i = skip_spaces(j)
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            if text[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    tag.argument = "expandable"
                    continue
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {at}"
                )
            i = skip_spaces(i + 1)
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            value, i = _attribute_value(text, i, at)
            _apply_attribute(tag, attr, value)
        if name == "span" and tag.argument != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        stack.append(tag)

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _attribute_value(text: str, i: int, at: int) -> tuple[str, int]:
    n = len(text)
    if text[i] not in "'\"":
        j = i
        while j < n and (text[j].isalnum() or text[j] in ".-"):
            j += 1
        return text[i:j], j
    quote = text[i]
    i += 1
    chunks: list[str] = []
    while i < n and text[i] != quote:
        if text[i] == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                chunks.append(decoded[0])
                i += decoded[1]
                continue
        chunks.append(text[i])
        i += 1
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {at}")
    return "".join(chunks), i + 1


def _apply_attribute(tag: _OpenTag, attr: str, value: str) -> None:
    if (
        (tag.name == "a" and attr == "href")
        or (tag.name == "span" and attr == "class")
        or (tag.name == "tg-emoji" and attr == "emoji-id")
    ):
        tag.argument = value
    elif tag.name == "code" and attr == "class" and value.startswith("language-"):
        tag.argument = value.removeprefix("language-")
    elif tag.name == "pre" and attr == "language":
        tag.language = value


def _close_tag(
    tag: _OpenTag,
    stack: list[_OpenTag],
    end16: int,
    plain: str,
    resolve_user: Callable[[int], JSON | None] | None,
) -> JSON | None:
    length = end16 - tag.begin_utf16
    if length <= 0:
        return None
    entity: JSON = {"offset": tag.begin_utf16, "length": length}
    name = tag.name
    if name == "code" and tag.argument and stack and stack[-1].name == "pre":
        parent = stack[-1]
        if parent.begin_utf16 == tag.begin_utf16 and not parent.language:
            parent.language = tag.argument
            return None
    if name in _SIMPLE_TAG_TYPES:
        entity["type"] = _SIMPLE_TAG_TYPES[name]
        if name == "pre" and tag.language:
            entity["language"] = tag.language
        return entity
    if name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        return entity
    if name == "tg-emoji":
        if not tag.argument:
            return None
        entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        return entity
    # <a>
    url = tag.argument
    if not url:
        return None
    match = re.fullmatch(r"tg://user\?id=(\d+)", url)
    if match:
        user = resolve_user(int(match.group(1))) if resolve_user else None
        if user is None:
            return None
        entity.update(type="text_mention", user=user)
        return entity
    if not re.match(r"^(https?|tg|ftp)://", url, re.IGNORECASE):
        if re.match(r"^[\w-]+(\.[\w-]+)+", url):
            url = "http://" + url
        else:
            return None
    entity.update(type="text_link", url=url)
    return entity


# --------------------------------------------------------------------------- incoming text

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
_URL_RE = re.compile(
    r"(?<![\w@/.])(?:https?://[^\s<>\"]+|(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*"
    r"\.(?:com|org|net|ru|io|me|dev|info|xyz|app|su|uk|de|co|ly|gg|link)\b(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)


def _utf16_span(text: str, start: int, end: int) -> tuple[int, int]:
    offset = utf16_len(text[:start])
    return offset, utf16_len(text[start:end])


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram's clients/servers attach to a user's plain text message.

    A leading ``/command`` or ``/command@bot`` becomes ``bot_command``; @mentions,
    #hashtags and links (``https://…``, ``t.me/…``, ``example.com``) are detected too.
    """
    found: list[JSON] = []
    command = _COMMAND_RE.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    taken = [(0, command.end())] if command else []
    for kind, regex in (("url", _URL_RE), ("mention", _MENTION_RE), ("hashtag", _HASHTAG_RE)):
        for match in regex.finditer(text):
            start, end = match.span()
            if kind == "url":
                end = start + len(match.group().rstrip(".,;:!?)"))
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            offset, length = _utf16_span(text, start, end)
            found.append({"type": kind, "offset": offset, "length": length})
    found.sort(key=lambda e: e["offset"])
    return found


# --------------------------------------------------------------------------- keyboards

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BUTTON_ERROR = "Bad Request: can't parse inline keyboard button: "


def check_reply_markup(markup: Any) -> str | None:
    """Validate reply_markup; returns Telegram's error description or None if fine."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        return "Bad Request: can't parse reply keyboard markup JSON object"
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return f'{_BUTTON_ERROR}field "inline_keyboard" must be of type Array'
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                return f'{_BUTTON_ERROR}Field "text" must be of type String'
            if not any(key in button for key in _BUTTON_ACTIONS):
                return f"{_BUTTON_ERROR}Text buttons are unallowed in the inline keyboard"
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode()) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    return "Bad Request: BUTTON_DATA_INVALID"
            if "url" in button and not re.match(
                r"^(https?|tg)://\S+$", str(button["url"]), re.IGNORECASE
            ):
                return "Bad Request: BUTTON_URL_INVALID"
    return None
