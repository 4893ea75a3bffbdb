"""The acts a person can do from the case card: one row each, offered by right and state.

A row names the right of rules/access.toml it needs, the case table's act
whose source states decide when it is offered (`case.states.BY_ACT`), and
its inputs. `perform` turns a submitted form into one call of
`mailflow.services`, which checks the person's capacity, writes the
hash-chained event naming them and does the rest (mail, receipts), exactly
as the same act by e-mail or at the command line does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from .. import services
from ..anonymity import FLAG as ANONYMOUS
from ..case.actors import actor
from ..case.states import BY_ACT, OPEN, STAGED, Act, Capacity, State
from ..models import Document
from ..rules import Rules
from ..values import Attachment


class Kind(str, Enum):
    TEXT = "text"
    LONG = "textarea"
    DATE = "date"
    FILE = "file"
    PERSON = "person"  # a staff member who signed the paper (for the clerk who enters it)
    UNIT = "unit"


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = True
    hint: str = ""


@dataclass(frozen=True)
class Upload:
    """A file sent with the form, read whole (the web layer bounds its size)."""

    filename: str
    content_type: str
    data: bytes


Value = str | Upload


@dataclass(frozen=True)
class CardAct:
    key: str
    title: str
    right: str  # rules/access.toml
    states: frozenset[State]  # offered while the case is in one of these
    inputs: tuple[Input, ...]
    done: str  # said after it was done
    signers: frozenset[Capacity] = field(default_factory=frozenset)  # PERSON inputs: who may have signed
    when: Callable[[Document], bool] = lambda doc: True


def _flags(doc: Document) -> list[str]:
    try:
        found = json.loads(doc.needs_review or "[]")
    except ValueError:
        return []
    return found if isinstance(found, list) else []


_HOW_SENT = "«Казпочта, РПО № RR123456785KZ, исх. № 12-3/45 от дд.мм.гггг» или «нарочным»"

ACTS: tuple[CardAct, ...] = (
    CardAct(
        "resolve",
        "Внести резолюцию с бумаги",
        "resolve",
        BY_ACT[Act.RESOLVE].sources,
        (
            Input(
                "text", "Текст резолюции", Kind.LONG, hint="«Петрову А.С. — рассмотреть. Срок до 15.04.2026»"
            ),
            Input("signer", "Подписал", Kind.PERSON, required=False),
        ),
        "Резолюция внесена, письма исполнителям отправлены.",
        signers=frozenset({Capacity.MANAGEMENT}),
    ),
    CardAct(
        "extend",
        "Продлить срок",
        "extend",
        BY_ACT[Act.EXTEND].sources,
        (
            Input("until", "Новый срок", Kind.DATE),
            Input("reason", "Мотивированное решение", Kind.LONG),
            Input("signer", "Решение принял", Kind.PERSON, required=False),
        ),
        "Срок продлён; заявителю сообщается.",
        signers=frozenset({Capacity.MANAGEMENT, Capacity.UNIT_HEAD}),
    ),
    CardAct(
        "notified",
        "Заявитель уведомлён о продлении",
        "close",  # the chancellery's outgoing mail, as the answer's dispatch
        OPEN,
        (Input("how", "Как уведомлён", hint=_HOW_SENT),),
        "Уведомление заявителя отмечено.",
    ),
    CardAct(
        "dispatch",
        "Ответ отправлен заявителю (3.7)",
        "close",
        BY_ACT[Act.DISPATCH].sources,
        (Input("sent", "Как отправлен", hint=_HOW_SENT),),
        "Отправка ответа отмечена; исполнителю направлен запрос копии.",
    ),
    CardAct(
        "close",
        "Копия ответа в канцелярии (3.8)",
        "close",
        BY_ACT[Act.FILE_COPY].sources,
        (
            Input("copy", "Скан копии ответа", Kind.FILE),
            Input(
                "sent", "Как отправлен", required=False, hint="если отправка ещё не отмечена: " + _HOW_SENT
            ),
        ),
        "Копия ответа зарегистрирована, дело закрыто.",
    ),
    CardAct(
        "redirect",
        "Перенаправить по компетенции",
        "redirect",
        BY_ACT[Act.REDIRECT].sources,
        (
            Input("to", "Куда", hint="организация, её адрес или e-mail"),
            Input("reason", "Причина", Kind.LONG),
        ),
        "Обращение перенаправлено; заявителю сообщается.",
    ),
    CardAct(
        "not_considered",
        "Анонимное: не рассматривать",
        "anonymous",
        BY_ACT[Act.NOT_CONSIDER].sources,
        (Input("reason", "Причина", Kind.LONG),),
        "Обращение оставлено без рассмотрения.",
        when=lambda doc: ANONYMOUS in _flags(doc),
    ),
    CardAct(
        "exception",
        "Анонимное, но рассматривается (сообщение о преступлении или угрозе)",
        "anonymous",
        OPEN,
        (Input("reason", "Причина", Kind.LONG),),
        "Отмечено: обращение рассматривается как обычное.",
        when=lambda doc: ANONYMOUS in _flags(doc),
    ),
    CardAct(
        "repeat",
        "Отметить как повторное",
        "repeat",
        frozenset(State),
        (Input("of", "Номер первого обращения", hint="ВХ-…"),),
        "Связь с первым обращением записана.",
        when=lambda doc: doc.repeat_of is None,
    ),
    CardAct(
        "not_repeat",
        "Не повторное: снять связь",
        "repeat",
        frozenset(State),
        (),
        "Связь снята.",
        when=lambda doc: doc.repeat_of is not None,
    ),
    CardAct(
        "handover",
        "Оригиналы переданы в подразделение",
        "handover",
        STAGED,
        (Input("unit", "Подразделение", Kind.UNIT),),
        "Передача оригиналов отмечена.",
    ),
)
BY_KEY: dict[str, CardAct] = {a.key: a for a in ACTS}


def offered(may: frozenset[str], doc: Document) -> list[CardAct]:
    """The acts this person may do on this case now."""
    state = State(doc.status)
    return [a for a in ACTS if a.right in may and state in a.states and a.when(doc)]


def signers(rules: Rules, act: CardAct) -> list[tuple[str, str]]:
    """(address, name) of the staff who may have signed the paper this act enters."""
    return [(p.email, p.name) for p in rules.staff.people if actor(rules, p.email).capacities & act.signers]


def units(rules: Rules) -> list[str]:
    return sorted({p.unit for p in rules.staff.people if p.unit})


def perform(svc: services.Services, act: CardAct, number: str, form: Mapping[str, Value], *, by: str) -> None:
    """Do `act` on case `number` for the person `by`; raises services.Refused (nothing done)."""
    values: dict[str, Value] = {}
    for i in act.inputs:
        v = form.get(i.name, "")
        if isinstance(v, str):
            v = v.strip()
        if i.required and not v:
            raise services.Invalid(i.name, f"нужно заполнить: {i.label}")
        values[i.name] = v

    def text(name: str) -> str:
        v = values.get(name, "")
        if not isinstance(v, str):
            raise services.Invalid(name, "ожидается текст")
        return v

    def signer() -> str | None:
        """Who signed: the one chosen, or the person themselves when they may sign."""
        chosen = text("signer")
        if chosen:
            return chosen
        return by if actor(svc.rules, by).capacities & act.signers else None

    match act.key:
        case "resolve":
            who = signer()
            svc.resolve(number, text("text"), who, entered_by=by if who != by else None)
        case "extend":
            try:
                until = dt.date.fromisoformat(text("until"))
            except ValueError:
                raise services.Invalid("until", "дата в виде ГГГГ-ММ-ДД") from None
            who = signer()
            if who is None:
                raise services.Invalid("signer", "укажите, кто принял решение о продлении")
            svc.extend(
                number, until=until, reason=text("reason"), by=who, entered_by=by if who != by else None
            )
        case "notified":
            svc.extension_notified(number, how=text("how"), by=by)
        case "dispatch":
            svc.dispatch(number, sent=text("sent"), by=by)
        case "close":
            up = values["copy"]
            if not isinstance(up, Upload) or not up.data:
                raise services.Invalid("copy", "приложите скан копии ответа")
            copy = Attachment(up.filename, up.content_type, up.data, hashlib.sha256(up.data).hexdigest())
            svc.close(number, copy=copy, sent=text("sent"), by=by)
        case "redirect":
            svc.redirect(number, to=text("to"), reason=text("reason"), by=by)
        case "not_considered" | "exception":
            svc.anonymous(number, consider=act.key == "exception", reason=text("reason"), by=by)
        case "repeat":
            svc.repeat(number, of=text("of"), by=by)
        case "not_repeat":
            svc.repeat(number, of=None, by=by)
        case "handover":
            if text("unit") not in units(svc.rules):
                raise services.Invalid("unit", f"нет такого подразделения в справочнике: {text('unit')}")
            svc.handover([number], unit=text("unit"), by=by)
        case _:  # a row without its call is a programming error, caught by the tests
            raise AssertionError(act.key)
