"""The words mailflow speaks in: kinds of appeal, consumer groups, channels, roles.

Each is defined here once and imported everywhere else (rules validation,
recognition, triage, reports, templates). They live in code, not in rules/,
because code branches on them: a Book entry is timed (2.1), a suggestion is
analysed (2.14), a chief's role decides the channel, an executor holds the
answer (3.3). What rules/ decides about them (which kinds are copied to the
PR specialist, which role gets which channel, a kind's statutory term) is
policy and stays there, validated against these names.

Adding a kind of appeal is one line in KINDS: its journal name, the Russian
stems and Kazakh words that name it in a letter, and its report label.
The case's states live in `case.states`, the answer's stages in
rules/answer.toml, the proof ladder in `case.ladder`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str  # as the journal, the export and rules/ spell it
    stems: tuple[str, ...]  # lower-case Russian stems that name it in a text
    kazakh: tuple[str, ...] = ()  # Kazakh words that name it
    specific: bool = True  # False: the general word, which never decides a kind by itself
    # Kazakh words that name it in a letter, where they differ from the form's heading
    kazakh_text: tuple[str, ...] | None = None

    @property
    def words(self) -> tuple[str, ...]:
        """What names this kind in free text: the Russian stems and the Kazakh words."""
        return (*self.stems, *(self.kazakh if self.kazakh_text is None else self.kazakh_text))


KINDS: tuple[Kind, ...] = (
    Kind("заявление", ("заявлен",), ("өтініш",)),
    Kind("жалоба", ("жалоб",), ("шағым",)),
    # on the forms «АРЫЗ» stands beside «ПРЕТЕНЗИЯ»; in a letter "арыз" is any application, "талап" the demand
    Kind("претензия", ("претенз",), ("арыз",), kazakh_text=("талап",)),
    Kind("отзыв", ("отзыв",), ("пікір",)),
    Kind("предложение", ("предложен",), ("ұсыныс",)),
    Kind("обращение", ("обращен",), (), specific=False),
)
KIND_KEYS: tuple[str, ...] = tuple(k.key for k in KINDS)
NO_KIND = "не определён"  # how a report shows a document whose kind is unknown
SUGGESTION = "предложение"  # analysed for feasibility (2.14)


def kind(key: str | None) -> Kind | None:
    return next((k for k in KINDS if k.key == key), None)


GROUPS: dict[int, str] = {1: "I — физические лица", 2: "II — юридические лица"}  # 1.2
HOUSEHOLD, LEGAL_ENTITY = 1, 2
NO_GROUP = "не определена"


@dataclass(frozen=True)
class Channel:
    key: str
    label: str


CHANNELS: tuple[Channel, ...] = (
    Channel("res", "РЭС / РУСЭ"),
    Channel("service_center", "Сервис-центр"),
    Channel("book", "Книга отзывов и предложений"),
    Channel("website", "Сайт (обратная связь)"),
    Channel("written", "Письменно (канцелярия)"),
    Channel("post", "Почтой"),
    Channel("visit", "Личный приём"),
    Channel("contact_center", "Контакт-центр"),
    Channel("email", "Электронная почта"),
)
CHANNEL_KEYS: tuple[str, ...] = tuple(c.key for c in CHANNELS)
BOOK = "book"  # the Book of reviews and suggestions: its 30 minutes are measured (2.1)
WRITTEN = "written"  # paper registered in the chancellery
PAPER_CHANNELS: tuple[str, ...] = (WRITTEN, "post", "visit")  # what `mailflow register --channel` takes


def channel_label(key: str | None) -> str:
    return next((c.label for c in CHANNELS if c.key == key), key or "—")


# Roles a person has in rules/staff.toml.
ROLES: frozenset[str] = frozenset(
    {
        "res_chief",
        "ruse_chief",
        "service_center_chief",
        "clerk",
        "pr_specialist",
        "director",
        "deputy_director",
        "unit_head",
        "executor",
        "legal",
        "website_form",
        "contact_center",
    }
)
# Senders whose mail is an appeal to register (1.1, 1.9, 2.2).
INTAKE_ROLES: frozenset[str] = frozenset(
    {"res_chief", "ruse_chief", "service_center_chief", "clerk", "website_form", "contact_center"}
)
CLERK, PR_SPECIALIST, UNIT_HEAD, LEGAL = "clerk", "pr_specialist", "unit_head", "legal"
WEBSITE_FORM, CONTACT_CENTER = "website_form", "contact_center"
# Intake senders whose appeals a system writes (the website's form, the contact
# centre's card): their mail marked Auto-Submitted: auto-generated is an appeal,
# not an auto-reply (an auto-replied out-of-office from them still is one).
FORM_ROLES: frozenset[str] = frozenset({WEBSITE_FORM, CONTACT_CENTER})

# Who holds or moves a case's answer (rules/answer.toml `holder`, `by`, `forward`):
# relative to the case, not the staff directory (the executor of this resolution).
# `clerk`: the clerks of the case's own journal (rules/journals.toml), who send the answer (3.7).
HOLDERS: tuple[str, ...] = ("executor", "unit_head", "legal", "management", "clerk")


# How a person reads a field's name (the card, `journal show`, the review lists).
FIELD_LABELS = {
    "last_name": "Фамилия",
    "first_name": "Имя",
    "patronymic": "Отчество",
    "address": "Адрес",
    "phone": "Телефон",
    "email": "E-mail",
    "org_name": "Организация",
    "outgoing_number": "Исх. номер",
    "outgoing_date": "Исх. дата",
    "kind": "Вид обращения",
    "group": "Группа потребителей",
    "attachments": "Вложения",
    "anonymous": "Анонимное?",
}

# What became of a consumer's suggestion (2.14): code -> (how a person reads it, the
# words the PR specialist writes for it, Russian and Kazakh).
DECISIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accepted": ("принято", ("ПРИНЯТО", "ПРИНЯТЬ", "ҚАБЫЛДАНДЫ")),
    "rejected": ("отклонено", ("ОТКЛОНЕНО", "ОТКЛОНИТЬ", "ҚАБЫЛДАНБАДЫ")),
    "planned": ("запланировано", ("ЗАПЛАНИРОВАНО", "ЗАПЛАНИРОВАТЬ", "ЖОСПАРЛАНДЫ")),
}
NO_DECISION = "без решения"


def decision_label(code: str | None) -> str:
    return DECISIONS[code][0] if code in DECISIONS else NO_DECISION
