"""The manager's own words in a reply: quoted text, attributions and
client signatures removed.

Mail clients mark the quoted original differently: "> " prefixes, an
attribution line ("On … wrote:", "… написал(а):", "пн, 16 мар. 2026 г. в
10:00, Mailflow <kanc@…>:"), a separator ("-----Original Message-----",
"-------- Исходное сообщение --------"), or an Outlook header block
("От: … / Отправлено: … / Кому: … / Тема: …"). Everything from the first
such mark on is the original, not the reply. Phone footers ("Отправлено с
iPhone") and a "-- " signature end the reply too.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:original\s+message|исходное\s+сообщение|пересылаемое\s+сообщение|
                  переадресованное\s+сообщение|forwarded\s+message|перенаправленное\s+сообщение|
                  бастапқы\s+хабар\w*)\s*-{2,}
      | (?:begin\s+forwarded\s+message|начало\s+переадресованного\s+сообщения)\s*:
      | _{10,}
    )\s*$""",
    re.I | re.X,
)

_FOOTER = re.compile(
    r"""^\s*(?:
        (?:отправлено|получено|послано)\s+(?:с|со|из|через)\s+\S.*
      | sent\s+(?:from|with|via)\s+\S.*
      | get\s+outlook\s+for\s+\S.*
      | (?:скачайте|загрузите)\s+.*(?:почт|mail).*
      | iphone\s*-?\s*(?:тен|арқылы)\s+жіберілді.*
    )$""",
    re.I | re.X,
)

_WROTE = re.compile(r"(?:\bwrote|\bнаписал(?:а|\(а\))?|\bпишет|\bжазды|\bschrieb)\s*:\s*$", re.I)
_ADDRESS_COLON = re.compile(r"<[^<>@\s]+@[^<>\s]+>\s*:?\s*$|\S+@\S+\s*\)?\s*:\s*$")
_DATEISH = re.compile(r"\d{1,2}[:.]\d{2}|\d{4}|\b\d{1,2}\s+\w{3}", re.I)
_HEADER = re.compile(r"^\s*(?:from|от|кімнен)\s*:\s*\S", re.I)
_HEADER_NEXT = re.compile(
    r"^\s*(?:sent|date|to|subject|cc|отправлено|дата|кому|тема|копия|жіберілді|кімге|тақырыбы)\s*:", re.I
)
_SIGNATURE = re.compile(r"^--\s*$")


_ATTRIBUTION_START = re.compile(
    r"^\s*(?:on\s|в\s|\d|(?:пн|вт|ср|чт|пт|сб|вс|mon|tue|wed|thu|fri|sat|sun)\w*[,.]|"
    r"(?:понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)\b)|[<@]",
    re.I,
)


def _attribution(line: str, nxt: str) -> bool:
    texts = [line]
    if (
        nxt.strip()
        and _ATTRIBUTION_START.search(line)
        and (len(nxt.strip()) <= 20 or not _attribution(nxt, ""))
    ):
        texts.append(f"{line} {nxt}")  # an attribution wrapped onto two lines
    for text in texts:
        t = text.strip()
        if not t.endswith(":") or len(t) > 300:
            continue
        if _WROTE.search(t) and (_DATEISH.search(t) or "@" in t or t.lower().startswith(("on ", "в "))):
            return True
        if _WROTE.search(t) and len(t) < 120:
            return True
        if _ADDRESS_COLON.search(t) and _DATEISH.search(t):
            return True
    return False


def strip_quoted(body: str, *, keep_signature: bool = False) -> str:
    """The manager's own words of a reply body (text/plain).

    keep_signature: a consumer's "-- " signature is their name and address, not noise."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = text.split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _SEPARATOR.match(line) or _FOOTER.match(line) or (_SIGNATURE.match(line) and not keep_signature):
            break
        if _HEADER.match(line) and any(_HEADER_NEXT.match(x) for x in lines[i + 1 : i + 4]):
            break
        if not line.lstrip().startswith(">") and _attribution(line, nxt):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)
