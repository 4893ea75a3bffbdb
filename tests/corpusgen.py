"""Generate a corpus of appeals in the shared/corpus/appeals format, harder.

    python tests/corpusgen.py OUT_DIR [--n 60] [--seed 7]
    python tests/corpusgen.py OUT_DIR --letters [--n 60] [--seed 7]
    python tests/corpusgen.py OUT_DIR --free [--n 40] [--seed 101]
    python tests/corpusgen.py OUT_DIR --kazakh [SHARE] [--n 60] [--seed 7]
    python tests/corpusgen.py OUT_DIR --photo [--n 20] [--seed 7]

writes OUT_DIR/NNN-<what>.eml and OUT_DIR/truth.jsonl (same keys as
appeals/truth.jsonl). Everything is decided by the seed: the same seed and
the same installed fonts give the same bytes.

What it makes: the consumer's forms of Appendix 1-3 of the regulation (the
chosen word underlined by a ruler or by a pen), organisations' letters
("Исх. № … от …"), website-form e-mails and Book-of-reviews entries (typed
forms and one handwritten entry, which no reader should claim to have read).
Pages are set in DejaVu, Liberation, PT and Carlito fonts (those installed),
scanned at 150-300 dpi with skew up to ±2.5° (some beyond, one upside down),
blur, noise and JPEG loss, and attached as JPEG, bilevel or grey PNG, TIFF or
image-only PDF, some of two pages; bodies in UTF-8, windows-1251 or KOI8-R;
Cyrillic file names (RFC 2231).

`--letters` makes organisations' letters only, of every legal form. `--free`
makes free-form appeals in the format of shared/corpus/free (NNN-free.eml and
truth.jsonl): consumers' typed letters (names declined into the genitive, or
the Kazakh ablative), scanned and forwarded by RES/RUSE/service-centre chiefs,
and consumers' own e-mails, about a fifth in Kazakh; the module
tests/corpusgen_free.py documents its variety and its truth conventions.
`--kazakh` has a share of the people (all by default) fill the forms in
Kazakh, the rest of the corpus as without it (tests/corpusgen_kazakh.py).
`--photo` makes the forms photographed with a phone on a desk and forwarded
by district chiefs as JPEGs (tests/corpusgen_photo.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import random
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

A4 = (8.27, 11.69)  # inches
FONTS = {  # family -> regular, italic (paths under /usr/share/fonts/truetype)
    "DejaVu Sans": ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Oblique.ttf"),
    "DejaVu Serif": ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Italic.ttf"),
    "Liberation Serif": ("liberation2/LiberationSerif-Regular.ttf", "liberation2/LiberationSerif-Italic.ttf"),
    "Liberation Sans": ("liberation2/LiberationSans-Regular.ttf", "liberation2/LiberationSans-Italic.ttf"),
    "PT Sans": ("paratype/PTS55F.ttf", "paratype/PTS56F.ttf"),
    "PT Serif": ("paratype/PTF55F.ttf", "paratype/PTF56F.ttf"),
    "Carlito": ("crosextra/Carlito-Regular.ttf", "crosextra/Carlito-Italic.ttf"),
}
FONT_ROOTS = (Path("/usr/share/fonts/truetype"), Path("/usr/local/share/fonts"), Path("/usr/share/fonts"))


def font_path(family: str, italic: bool = False) -> str:
    rel = FONTS.get(family, FONTS["DejaVu Sans"])[1 if italic else 0]
    for root in FONT_ROOTS:
        if (root / rel).is_file():
            return str(root / rel)
    fallback = FONTS["DejaVu Sans"][1 if italic else 0]
    for root in FONT_ROOTS:
        if (root / fallback).is_file():
            return str(root / fallback)
    raise FileNotFoundError("DejaVu fonts are needed (Debian: fonts-dejavu-core)")


def installed_families() -> list[str]:
    out = []
    for fam, (rel, _) in FONTS.items():
        if any((root / rel).is_file() for root in FONT_ROOTS):
            out.append(fam)
    return out


# --- people, places, words ----------------------------------------------

SURNAMES = [  # (male, female)
    ("Омаров", "Омарова"),
    ("Кузнецов", "Кузнецова"),
    ("Иванов", "Иванова"),
    ("Нурланов", "Нурланова"),
    ("Ахметов", "Ахметова"),
    ("Касымов", "Касымова"),
    ("Петренко", "Петренко"),
    ("Шевченко", "Шевченко"),
    ("Сергеев", "Сергеева"),
    ("Бекмухамбетов", "Бекмухамбетова"),
    ("Жунусов", "Жунусова"),
    ("Сатпаев", "Сатпаева"),
    ("Абдрахманов", "Абдрахманова"),
    ("Тлеубаев", "Тлеубаева"),
    ("Смирнов", "Смирнова"),
    ("Волков", "Волкова"),
    ("Есенов", "Есенова"),
    ("Мусин", "Мусина"),
    ("Карпенко", "Карпенко"),
    ("Дюсенбаев", "Дюсенбаева"),
    ("Ким", "Ким"),
    ("Белоусов", "Белоусова"),
    ("Искаков", "Искакова"),
    ("Попов", "Попова"),
    ("Байжанов", "Байжанова"),
    ("Ковальчук", "Ковальчук"),
    ("Рахимжанов", "Рахимжанова"),
    ("Григорьев", "Григорьева"),
]
MALE = [
    "Асхат",
    "Дмитрий",
    "Сергей",
    "Николай",
    "Виктор",
    "Ерлан",
    "Айдар",
    "Марат",
    "Алексей",
    "Бауыржан",
    "Руслан",
    "Андрей",
    "Талгат",
    "Нурлан",
    "Ғалым",
    "Олжас",
    "Владимир",
    "Даурен",
    "Игорь",
    "Канат",
]
FEMALE = [
    "Сауле",
    "Татьяна",
    "Гульнара",
    "Жанар",
    "Наталья",
    "Айгуль",
    "Елена",
    "Динара",
    "Ольга",
    "Әлия",
    "Светлана",
    "Асель",
    "Мария",
    "Гаухар",
    "Ирина",
    "Жұлдыз",
    "Людмила",
    "Алия",
    "Марина",
    "Айнур",
]
FATHERS = [
    ("Иванович", "Ивановна"),
    ("Болатович", "Болатовна"),
    ("Маратович", "Маратовна"),
    ("Петрович", "Петровна"),
    ("Сергеевич", "Сергеевна"),
    ("Ерланович", "Ерлановна"),
    ("Николаевич", "Николаевна"),
    ("Серикович", "Сериковна"),
    ("Кайратович", "Кайратовна"),
    ("Александрович", "Александровна"),
    ("Нурланович", "Нурлановна"),
    ("Ильич", "Ильинична"),
    ("Викторович", "Викторовна"),
]
PLACES = [
    ("г.", "Петропавловск"),
    ("г.", "Булаево"),
    ("г.", "Мамлютка"),
    ("г.", "Сергеевка"),
    ("г.", "Тайынша"),
    ("с.", "Явленка"),
    ("с.", "Саумалколь"),
    ("с.", "Бесколь"),
    ("с.", "Смирново"),
    ("с.", "Кишкенеколь"),
    ("с.", "Новоишимское"),
    ("с.", "Тимирязево"),
    ("с.", "Пресновка"),
    ("с.", "Соколовка"),
]
STREETS = [
    "Абая",
    "Мира",
    "Пушкина",
    "Назарбаева",
    "Жамбыла",
    "Интернациональная",
    "Конституции Казахстана",
    "Победы",
    "Букетова",
    "Шокана Уалиханова",
    "Жумабаева",
    "Сатпаева",
    "Ленина",
    "Гоголя",
    "Степная",
    "Садовая",
    "Строительная",
    "Кошукова",
    "Астана",
    "Е. Брусиловского",
    "Молодёжная",
    "30 лет Победы",
]
MOBILE = ["700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"]
DOMAINS = ["mail.example", "inbox.example", "post.example", "kz-mail.example"]

UNITS = {  # sender -> (unit, channel)
    "ayyrtau-res@sevkaz.example": ("Айыртауский РЭС", "res"),
    "tayynsha-res@sevkaz.example": ("Тайыншинский РЭС", "res"),
    "esil-res@sevkaz.example": ("Есильский РЭС", "res"),
    "kyzylzhar-res@sevkaz.example": ("Кызылжарский РЭС", "res"),
    "mamlyut-ruse@sevkaz.example": ("Мамлютский РУСЭ", "res"),
    "sc2@sevkaz.example": ("Сервис-центр № 2", "service_center"),
}
CLERK = "kanc-sbyt@sevkaz.example"
WEBSITE = "noreply@sevkaz.example"
CHANCELLERY = "kanc@sevkaz.example"

TEXTS = {
    "заявление": [
        "Прошу произвести замену прибора учёта электроэнергии по моему адресу в связи с его "
        "неисправностью. Пломба на счётчике повреждена не по моей вине.",
        "Прошу выдать технические условия на подключение жилого дома к электрическим сетям. "
        "Необходимая мощность 15 кВт.",
        "Прошу переоформить лицевой счёт на моё имя в связи со сменой собственника дома.",
    ],
    "жалоба": [
        "Третий раз за месяц происходят скачки напряжения, в результате вышел из строя "
        "холодильник. Работники РЭС на заявку не выехали. Прошу рассмотреть мою жалобу.",
        "Вторую неделю на нашей улице не работает уличное освещение. Обращения по телефону "
        "результата не дали.",
        "Сотрудник абонентского отдела отказался принять показания счётчика и разговаривал "
        "грубо. Прошу принять меры.",
    ],
    "претензия": [
        "В счёте за март начислено 1 840 кВт*ч, тогда как фактический расход по показаниям "
        "счётчика составил 412 кВт*ч. Требую произвести перерасчёт и вернуть излишне уплаченные "
        "21 350 тенге.",
        "В результате перепада напряжения 14.02.2026 сгорели телевизор и стиральная машина. "
        "Требую возместить ущерб в размере 185 000 тенге.",
    ],
    "отзыв": [
        "Благодарю бригаду РЭС за быстрое устранение аварии. Работники приехали через час после "
        "звонка и всё сделали аккуратно.",
        "Хочу отметить вежливое обслуживание в сервис-центре. Оператор подробно объяснила порядок расчётов.",
    ],
    "предложение": [
        "Предлагаю установить в сервис-центре терминал для оплаты без комиссии и продлить часы "
        "приёма граждан до 19:00 в будние дни.",
        "Предлагаю рассылать SMS-уведомления о плановых отключениях электроэнергии за сутки до отключения.",
    ],
}
KIND_ACC = {
    "заявление": "заявление",
    "жалоба": "жалобу",
    "претензия": "претензию",
    "отзыв": "отзыв",
    "предложение": "предложение",
}
MONTHS = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
ORGS = [
    ("ТОО", "Агрофирма Береке"),
    ("КХ", "Жана Жол"),
    ("КГУ", "Средняя школа № 7"),
    ("ИП", "Ахметов и К"),
    ("ТОО", "СевКазСтрой"),
    ("АО", "Петропавловский хлебозавод"),
    ("КГП", "Районная больница"),
    ("ТОО", "Нурлы Жол-Агро"),
    ("ИП", "Садыкова А.М."),
    ("ГУ", "Аппарат акима сельского округа"),
    ("ТОО", "Тайынша-Астык"),
    ("КХ", "Бірлік"),
    ("ОСИ", "Дом на Абая 12"),
]
# --letters: the legal forms letters come with (issue 13): entrepreneurs with a
# person's name, state institutions and enterprises, farms, cooperatives, in
# Russian and Kazakh, written with «», "" or no quotes at all
LETTER_ORGS = [
    *ORGS,
    ("ИП", "Сатпаев А.К."),
    ("ИП", "Жұмабаев Е.Қ."),
    ("ИП", "Ким Виктория Олеговна"),
    ("ЖК", "Омаров Б.С."),
    ("КГУ", "Отдел образования Есильского района"),
    ("КГУ", "Центр занятости населения"),
    ("РГП", "Казводхоз"),
    ("РГП на ПХВ", "Казгидромет"),
    ("ГККП", "Ясли-сад Балапан"),
    ("ГККП", "Дом культуры"),
    ("АО", "Казпочта"),
    ("ТОО", "Береке-2030"),
    ("ТОО", "Қызылжар Құрылыс"),
    ("ЖШС", "Нұр Ақсу"),
    ("КХ", "Нұрлы жол"),
    ("ШҚ", "Әділет"),
    ("ПК", "Жұлдыз"),
    ("ПК", "Степной"),
]
PERSON_FORMS = ("ИП", "ЖК")


@dataclass
class Person:
    last_name: str
    first_name: str
    patronymic: str | None
    address: str
    phone: str  # E.164
    email: str | None
    female: bool

    def phone_printed(self, style: int) -> str:
        d = self.phone[2:]  # 10 digits after +7
        return [
            f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
            f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"+7({d[:3]}){d[3:]}",
            f"8{d}",
            f"+7 {d[:3]} {d[3:]}",
        ][style % 5]

    @property
    def genitive(self) -> str:
        s = self.last_name
        if self.female:
            return s[:-1] + "ой" if s.endswith(("ова", "ева", "ина")) else s
        return s + "а" if s.endswith(("ов", "ев", "ин")) else s


def phone_truth(e164: str) -> str:
    d = e164[2:]
    return f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}"


def make_person(rng: random.Random) -> Person:
    female = rng.random() < 0.5
    sm, sf = rng.choice(SURNAMES)
    first = rng.choice(FEMALE if female else MALE)
    pat = rng.choice(FATHERS)[1 if female else 0] if rng.random() < 0.93 else None
    kind, town = rng.choice(PLACES)
    addr = f"{kind} {town}, ул. {rng.choice(STREETS)}, д. {rng.randint(1, 160)}"
    if rng.random() < 0.5:
        addr += f", кв. {rng.randint(1, 120)}"
    phone = "+7" + rng.choice(MOBILE) + f"{rng.randint(0, 9999999):07d}"
    email = None
    if rng.random() < 0.55:
        base = rng.choice(["kz", "mail", "user", "a.", "info", "n_", "zh"])
        email = f"{base}{rng.randint(10, 9999)}@{rng.choice(DOMAINS)}"
    return Person(sf if female else sm, first, pat, addr, phone, email, female)


@dataclass
class Org:
    org_type: str
    name: str
    number: str
    date: dt.date
    phone: str
    city: str
    email: str | None

    quote: str = "«»"  # how the letterhead writes the name: «», "" or "" (none)

    @property
    def org_name(self) -> str:
        """As the journal keeps it, however the letter wrote it."""
        return f"{self.org_type} «{self.name}»"

    @property
    def printed(self) -> str:
        if not self.quote:
            return f"{self.org_type} {self.name}"
        return f"{self.org_type} {self.quote[0]}{self.name}{self.quote[1]}"


def make_org(rng: random.Random, when: dt.date, varied: bool = False) -> Org:
    t, n = rng.choice(LETTER_ORGS if varied else ORGS)
    num = rng.choice(
        [
            f"{rng.randint(1, 480)}/{rng.randint(1, 12):02d}",
            f"{rng.randint(10, 999)}",
            f"{rng.randint(1, 99)}-{rng.randint(1, 30)}",
            f"01-{rng.randint(10, 999)}",
        ]
    )
    date = when - dt.timedelta(days=rng.randint(0, 9))
    phone = "+7" + rng.choice(MOBILE) + f"{rng.randint(0, 9999999):07d}"
    email = f"office{rng.randint(1, 99)}@client.example" if rng.random() < 0.3 else None
    quote = "«»"
    if varied:  # a person's name mostly bare; a company's mostly in quotes
        weights = (3, 1, 6) if t in PERSON_FORMS else (6, 3, 1)
        quote = rng.choices(["«»", '""', ""], weights)[0]
    return Org(t, n, num, date, phone, rng.choice(PLACES)[1], email, quote)


# --- drawing -------------------------------------------------------------


class Sheet:
    """An A4 page at `dpi`, drawn in points and inches like a word processor."""

    def __init__(self, dpi: int, family: str, size_pt: float, paper: int = 255):
        self.dpi = dpi
        self.family = family
        self.size = size_pt
        self.img = Image.new("L", (int(A4[0] * dpi), int(A4[1] * dpi)), paper)
        self.draw = ImageDraw.Draw(self.img)
        self._fonts: dict = {}

    def font(self, size_pt: float | None = None, italic: bool = False):
        size = size_pt or self.size
        key = (size, italic)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(
                font_path(self.family, italic), max(6, int(round(size * self.dpi / 72)))
            )
        return self._fonts[key]

    def px(self, inches: float) -> int:
        return int(round(inches * self.dpi))

    def line_h(self, size_pt: float | None = None) -> int:
        return int(round((size_pt or self.size) * 1.32 * self.dpi / 72))

    def text(self, x_in: float, y: int, s: str, size_pt=None, ink=20, italic=False) -> int:
        f = self.font(size_pt, italic)
        self.draw.text((self.px(x_in), y), s, font=f, fill=ink)
        return y + self.line_h(size_pt)

    def centered(self, cx_in: float, y: int, s: str, size_pt=None, ink=20) -> tuple[int, int]:
        f = self.font(size_pt)
        w = f.getlength(s)
        x = self.px(cx_in) - w / 2
        self.draw.text((x, y), s, font=f, fill=ink)
        return int(x), y + self.line_h(size_pt)

    def wrap(
        self, x_in: float, width_in: float, y: int, s: str, size_pt=None, ink=20, first_indent: float = 0.0
    ) -> int:
        f = self.font(size_pt)
        limit = self.px(width_in)
        line, indent = "", self.px(first_indent)
        for word in s.split():
            trial = (line + " " + word).strip()
            if f.getlength(trial) + indent > limit and line:
                self.draw.text((self.px(x_in) + indent, y), line, font=f, fill=ink)
                y += self.line_h(size_pt)
                line, indent = word, 0
            else:
                line = trial
        if line:
            self.draw.text((self.px(x_in) + indent, y), line, font=f, fill=ink)
            y += self.line_h(size_pt)
        return y

    def underline(
        self, x0: float, x1: float, y: float, width: int, rng: random.Random, pen: bool = False
    ) -> None:
        if not pen:
            self.draw.line([(x0, y), (x1, y)], fill=20, width=width)
            return
        pts, x = [], x0 - rng.uniform(0, 0.05) * (x1 - x0)
        end = x1 + rng.uniform(0, 0.08) * (x1 - x0)
        yy = y + rng.uniform(-1, 1) * width
        while x < end:
            pts.append((x, yy))
            x += max(3, (x1 - x0) / 12)
            yy += rng.uniform(-0.6, 0.6) * width
        pts.append((end, yy))
        self.draw.line(pts, fill=45, width=width + 1, joint="curve")


HEAD = [
    "АҚ/ЖШС Бас директорына /",
    "Генеральному директору АО",
    "«СЕВКАЗЭНЕРГО»",
    "Ф.И.О. Генерального директора",
]
FORM_HEADINGS = {
    1: ("ӨТІНІШ", "ЗАЯВЛЕНИЕ"),
    2: ("ШАҒЫМ/АРЫЗ", "ЖАЛОБА/ПРЕТЕНЗИЯ"),
    3: ("ПІКІР/ҰСЫНЫС", "ОТЗЫВ/ПРЕДЛОЖЕНИЕ"),
}
APPENDIX = {"заявление": 1, "жалоба": 2, "претензия": 2, "отзыв": 3, "предложение": 3}


def render_form(
    p: Person,
    kind: str,
    when: dt.date,
    *,
    dpi: int,
    family: str,
    rng: random.Random,
    pages: int = 1,
    pen: bool = False,
) -> list[Image.Image]:
    """Appendix 1-3, filled in by typing; the chosen word underlined."""
    app = APPENDIX[kind]
    size = rng.choice([11, 12, 12, 13, 14])
    s = Sheet(dpi, family, size)
    y = s.px(0.75)
    s.text(5.3, y, f"Приложение {app}", size_pt=9)
    x0 = rng.uniform(3.7, 4.4)
    width = A4[0] - 0.7 - x0
    y = s.px(1.05)
    for line in HEAD:
        y = s.wrap(x0, width, y, line)
    y += s.line_h() // 3
    name = " ".join(v for v in (p.last_name, p.first_name, p.patronymic) if v)
    phone_style = rng.randrange(5)
    fields = [
        ("тұтынушы/от потребителя", name),
        ("мекен-жайы/по адресу", p.address),
        ("телефоны/телефон", p.phone_printed(phone_style)),
        ("эл. пошта/эл. почта", p.email or ""),
    ]
    for label, value in fields:
        y = s.wrap(x0, width, y, f"{label} {value}".strip())
    y += s.line_h()
    kz, ru = FORM_HEADINGS[app]
    _, y = s.centered(4.3, y, kz, size_pt=size + 2)
    xr, y2 = s.centered(4.3, y, ru, size_pt=size + 2)
    if app in (2, 3):
        f = s.font(size + 2)
        a, b = ru.split("/")
        word = a if kind in ("жалоба", "отзыв") else b
        start = 0 if word == a else f.getlength(a + "/")
        x_a = xr + start
        x_b = x_a + f.getlength(word)
        asc, desc = f.getmetrics()
        base = y + asc + max(2, int(dpi / 60))
        s.underline(x_a, x_b, base, max(2, dpi // 110), rng, pen=pen)
    y = y2
    if app in (2, 3):
        _, y = s.centered(4.3, y, "Қажетін сызу/ Нужное подчеркнуть", size_pt=9)
    y += s.line_h()
    text = rng.choice(TEXTS[kind])
    imgs = []
    if pages == 2:  # a long appeal: the text runs on, the date and signature on page 2
        text = " ".join([text] + [rng.choice(TEXTS[kind]) for _ in range(2)])
        y = s.wrap(0.9, 6.6, y, text, first_indent=0.4)
        imgs.append(s.img)
        s = Sheet(dpi, family, size)
        y = s.px(1.0)
        y = s.wrap(0.9, 6.6, y, "Прошу дать письменный ответ по указанному адресу.", first_indent=0.4)
    else:
        y = s.wrap(0.9, 6.6, y, text, first_indent=0.4)
    y += s.line_h() * 2
    y = s.text(0.9, y, "М.О./М.П.", size_pt=10)
    s.text(0.9, y, f"«{when.day:02d}» {MONTHS[when.month - 1]} {when.year} г.", size_pt=size)
    s.draw.line([(s.px(3.0), y + s.line_h() * 0.8), (s.px(4.3), y + s.line_h() * 0.8)], fill=20, width=2)
    s.text(4.6, y, f"{p.last_name} {p.first_name[0]}.")
    imgs.append(s.img)
    return imgs


def render_letter(
    o: Org,
    kind: str | None,
    *,
    dpi: int,
    family: str,
    rng: random.Random,
    pages: int = 1,
    kind_text: str | None = None,
) -> list[Image.Image]:
    size = rng.choice([11, 12, 12, 13])
    s = Sheet(dpi, family, size)
    y = s.px(0.8)
    _, y = s.centered(4.13, y, o.printed, size_pt=size + 3)
    _, y = s.centered(4.13, y, f"г. {o.city}, БИН {rng.randint(10**11, 10**12 - 1)}", size_pt=9)
    if rng.random() < 0.3:
        _, y = s.centered(
            4.13,
            y,
            f"тел./факс: 8 (7152) {rng.randint(30, 59)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
            size_pt=9,
        )
    y += s.line_h()
    date_s = o.date.strftime("%d.%m.%Y")
    if rng.random() < 0.25:
        date_s = f"«{o.date.day:02d}» {MONTHS[o.date.month - 1]} {o.date.year} г."
    y = s.text(0.9, y, f"Исх. № {o.number} от {date_s}")
    y += s.line_h() // 2
    for line in ("Генеральному директору", "АО «СЕВКАЗЭНЕРГО»", "Ф.И.О. Генерального директора"):
        y = s.text(4.6, y, line)
    y += s.line_h()
    if kind:
        title = {
            "заявление": "Заявление",
            "жалоба": "Жалоба",
            "претензия": "ПРЕТЕНЗИЯ",
            "предложение": "Предложение",
            "отзыв": "Отзыв",
        }[kind]
        if kind == "претензия" and rng.random() < 0.4:
            title = "Претензия о возмещении ущерба"
        _, y = s.centered(4.13, y, title, size_pt=size + 1)
        y += s.line_h() // 2
    text = kind_text or rng.choice(TEXTS[kind or "претензия"])
    y = s.wrap(0.9, 6.5, y, text, first_indent=0.4)
    imgs = []
    if pages == 2:
        y = s.wrap(
            0.9, 6.5, y, " ".join(rng.choice(TEXTS[kind or "претензия"]) for _ in range(3)), first_indent=0.4
        )
        imgs.append(s.img)
        s = Sheet(dpi, family, size)
        y = s.px(1.0)
        y = s.wrap(
            0.9, 6.5, y, "Просим рассмотреть письмо в установленный срок и дать ответ.", first_indent=0.4
        )
    y += s.line_h()
    y = s.text(
        0.9,
        y,
        f"Контактный телефон: {Person('', '', '', '', o.phone, None, False).phone_printed(rng.randrange(5))}",
    )
    if o.email:
        y = s.text(0.9, y, f"E-mail: {o.email}")
    y += s.line_h()
    s.text(0.9, y, "Директор")
    s.draw.line([(s.px(2.6), y + s.line_h() * 0.8), (s.px(3.9), y + s.line_h() * 0.8)], fill=20, width=2)
    s.text(4.3, y, f"{rng.choice(SURNAMES)[0]} {rng.choice('АБЕКМНСТ')}.{rng.choice('АБЕКМНСТ')}.")
    imgs.append(s.img)
    return imgs


def render_handwritten(
    p: Person, kind: str, when: dt.datetime, *, dpi: int, rng: random.Random
) -> list[Image.Image]:
    """A Book-of-reviews page written by hand: jittering, slanted, joined letters."""
    w, h = int(A4[0] * dpi), int(A4[1] * dpi)
    img = Image.new("L", (w, h), 246)
    d = ImageDraw.Draw(img)
    step = int(0.36 * dpi)
    for yy in range(int(0.9 * dpi), h - int(0.5 * dpi), step):  # the book's ruling
        d.line([(0, yy), (w, yy)], fill=200, width=max(1, dpi // 150))
    lines = [
        when.strftime("%d.%m.%Y %H:%M"),
        " ".join(v for v in (p.last_name, p.first_name, p.patronymic) if v),
        p.address,
        "тел. " + p.phone_printed(1),
    ]
    lines += _wrap_chars(rng.choice(TEXTS[kind]), 44)
    size = int(0.27 * dpi)
    fpath = font_path(rng.choice(["DejaVu Sans", "PT Sans", "Liberation Sans"]), italic=True)
    slant = rng.uniform(-0.45, -0.2)  # a hand leans its letters the same way
    ink = rng.randint(25, 60)
    base = int(0.9 * dpi) + step - int(step * 0.15)
    for line in lines:
        x = int(0.8 * dpi) + rng.randint(-10, 30)
        drift = rng.uniform(-0.03, 0.03)
        for ch in line:
            if ch == " ":
                x += int(size * rng.uniform(0.3, 0.6))
                continue
            sz = int(size * rng.uniform(0.85, 1.15))
            f = ImageFont.truetype(fpath, sz)
            tile = Image.new("L", (sz * 2, sz * 2), 0)
            ImageDraw.Draw(tile).text(
                (sz // 2, int(sz * 1.4)),
                ch,
                font=f,
                fill=255,
                anchor="ls",
                stroke_width=max(1, rng.choice([1, 1, 2]) * dpi // 200),
                stroke_fill=255,
            )
            tile = tile.transform(
                tile.size,
                Image.AFFINE,
                (1, slant + rng.uniform(-0.15, 0.15), -slant * sz * 1.4, 0, 1, 0),
                resample=Image.BILINEAR,
            )
            tile = tile.rotate(rng.uniform(-9, 9), resample=Image.BILINEAR, center=(sz, int(sz * 1.4)))
            yy = base + int(drift * (x - dpi)) + rng.randint(-size // 10, size // 10)
            img.paste(Image.new("L", tile.size, ink), (x - sz // 2, yy - int(sz * 1.4)), tile)
            if rng.random() < 0.35:  # a joining stroke to the next letter
                d.line(
                    [
                        (x + f.getlength(ch) * 0.8, yy - 2),
                        (x + f.getlength(ch) * 1.1, yy - sz * rng.uniform(0.2, 0.45)),
                    ],
                    fill=ink,
                    width=max(1, dpi // 100),
                )
            x += int(f.getlength(ch) * rng.uniform(0.78, 1.0))
        base += step
    return [_warp(img, rng, dpi)]


def _wrap_chars(text: str, width: int) -> list[str]:
    out, line = [], ""
    for w in text.split():
        if len(line) + len(w) + 1 > width and line:
            out.append(line)
            line = w
        else:
            line = (line + " " + w).strip()
    return out + ([line] if line else [])


def _warp(img: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    """A gentle wave along the lines, as a hand never keeps to the ruling."""
    w, h = img.size
    out = Image.new("L", (w, h), 246)
    band = max(8, dpi // 20)
    amp, period, phase = dpi * 0.03, dpi * rng.uniform(1.5, 3.0), rng.uniform(0, 6.28)
    for x in range(0, w, band):
        dy = int(amp * math.sin(phase + x / period * 6.28))
        out.paste(img.crop((x, 0, min(w, x + band), h)), (x, dy))
    return out


# --- scanning ------------------------------------------------------------


def scan(
    img: Image.Image,
    rng: random.Random,
    *,
    dpi: int,
    skew: float,
    blur: float,
    noise: float,
    rotate180: bool = False,
    quarter: int = 0,
) -> Image.Image:
    out = img
    paper = rng.randint(228, 250)
    out = out.point(lambda v, p=paper: int(v * p / 255))
    if skew:
        out = out.rotate(skew, resample=Image.BICUBIC, expand=True, fillcolor=paper)
    if rotate180:
        out = out.rotate(180)
    if quarter:
        out = out.rotate(quarter, expand=True)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur * dpi / 300))
    if noise:  # grain: a tile of seeded noise (Image.effect_noise is not seeded)
        tile = Image.frombytes("L", (256, 256), rng.randbytes(256 * 256))
        tile = tile.point(lambda v, a=noise: max(0, min(255, int(128 + (v - 128) * a / 40))))
        grain = Image.new("L", out.size)
        for x in range(0, out.width, 256):
            for y in range(0, out.height, 256):
                grain.paste(tile, (x, y))
        out = Image.blend(out, grain, 0.12).point(lambda v: min(255, int(v * 1.08)))
        d = ImageDraw.Draw(out)
        for _ in range(int(noise * 40)):
            x, y = rng.randrange(out.width), rng.randrange(out.height)
            r = rng.randint(1, max(1, dpi // 150))
            d.ellipse([x, y, x + r, y + r], fill=rng.randint(40, 120))
    return out


def encode(
    pages: list[Image.Image],
    fmt: str,
    dpi: int,
    rng: random.Random,
    when: dt.datetime = dt.datetime(2026, 3, 2, 9, 0),
) -> list[tuple[bytes, str, str]]:
    """(data, content type, extension) per file; a PDF or TIFF holds all pages."""
    if fmt == "pdf":
        buf = io.BytesIO()
        rgb = [p.convert("RGB") for p in pages]
        rgb[0].save(
            buf,
            format="PDF",
            resolution=float(dpi),
            save_all=True,
            append_images=rgb[1:],
            quality=rng.randint(35, 75),
            creationDate=when.timetuple(),
            modDate=when.timetuple(),
        )
        return [(buf.getvalue(), "application/pdf", "pdf")]
    if fmt == "tiff":
        buf = io.BytesIO()
        bw = [p.point(lambda v: 255 if v > 150 else 0).convert("1") for p in pages]
        bw[0].save(
            buf, format="TIFF", compression="group4", dpi=(dpi, dpi), save_all=True, append_images=bw[1:]
        )
        return [(buf.getvalue(), "image/tiff", "tif")]
    out = []
    for p in pages:
        buf = io.BytesIO()
        if fmt == "jpeg":
            p.save(buf, format="JPEG", quality=rng.randint(30, 80))
            out.append((buf.getvalue(), "image/jpeg", "jpg"))
        elif fmt == "png1":
            thr = rng.randint(135, 165)
            p.point(lambda v, t=thr: 255 if v > t else 0).convert("1").save(buf, format="PNG")
            out.append((buf.getvalue(), "image/png", "png"))
        else:
            p.point(lambda v: v // 8 * 8).save(buf, format="PNG")  # a scanner's 5-bit grey
            out.append((buf.getvalue(), "image/png", "png"))
    return out


# --- messages ------------------------------------------------------------


@dataclass
class Case:
    doc: str  # "form" | "letter" | "website" | "handwritten"
    sender: str
    kind: str
    fmt: str = "jpeg"  # jpeg | png1 | png | pdf | tiff
    dpi: int = 200
    family: str = "DejaVu Sans"
    skew: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    pages: int = 1
    pen: bool = False
    rotate180: bool = False
    quarter: int = 0  # the page scanned lying on its side: 90 or 270 degrees
    charset: str = "utf-8"
    body_style: int = 0
    letter_title: bool = True
    extra: str | None = None  # an extra unreadable attachment: "docx" | "zip"
    tz_hours: int = 5
    person: Person | None = None
    org: Org | None = None
    when: dt.datetime | None = None
    meta: dict = field(default_factory=dict)


def plan(n: int, rng: random.Random, families: list[str] | None = None) -> list[Case]:
    families = families or installed_families()
    chiefs = list(UNITS)
    docs = ["form"] * 9 + ["letter"] * 4 + ["website"] * 2 + ["bookform"] * 3
    cases = []
    for _ in range(n):
        doc = rng.choice(docs)
        kind = rng.choice(list(TEXTS))
        c = Case(doc=doc, sender="", kind=kind)
        c.family = rng.choice(families)
        c.dpi = rng.choice([150, 200, 200, 240, 300, 300])
        c.fmt = rng.choice(["jpeg", "jpeg", "pdf", "pdf", "png1", "png", "tiff"])
        a = rng.random()
        c.skew = rng.uniform(-2.5, 2.5) if a < 0.85 else rng.choice([-1, 1]) * rng.uniform(3, 6)
        c.blur = rng.choice([0, 0, 0.5, 0.8, 1.1])
        c.noise = rng.choice([0, 4, 8, 12])
        c.pages = 2 if rng.random() < 0.12 else 1
        c.pen = rng.random() < 0.35
        c.charset = rng.choice(["utf-8", "windows-1251", "koi8-r"])
        c.body_style = rng.randrange(4)
        c.tz_hours = 5 if rng.random() < 0.8 else 0
        c.extra = rng.choice([None] * 10 + ["docx", "zip"])
        if doc == "form":
            c.sender = rng.choice(chiefs) if rng.random() < 0.9 else f"user{rng.randint(1, 999)}@mail.example"
        elif doc == "bookform":
            c.sender, c.doc = CLERK, "form"
            c.meta["book"] = True
        elif doc == "letter":
            c.sender = f"office{rng.randint(1, 99)}@client.example"
            c.kind = rng.choice(["жалоба", "претензия", "претензия", "заявление", "предложение"])
            c.letter_title = rng.random() < 0.85 or c.kind != "претензия"
            if not c.letter_title:
                c.kind = "претензия"
        elif doc == "website":
            c.sender, c.fmt = WEBSITE, "none"
        cases.append(c)
    if n >= 8:  # the ones a reader must meet at least once
        cases[3].rotate180, cases[3].skew, cases[3].doc = True, 0.4, "form"
        cases[3].sender = rng.choice(chiefs)
        if n >= 10:
            cases[8].quarter, cases[8].skew, cases[8].doc = rng.choice([90, 270]), 0.3, "form"
            cases[8].sender = rng.choice(chiefs)
        cases[5] = Case(
            doc="handwritten",
            sender=CLERK,
            kind=rng.choice(["жалоба", "предложение"]),
            fmt="jpeg",
            dpi=200,
            meta={"book": True},
        )
    return cases


def build(case: Case, idx: int, rng: random.Random, base_day: dt.date) -> tuple[bytes, dict, str]:
    """The .eml bytes, its truth line and a file stem for one planned case."""
    day = base_day + dt.timedelta(days=rng.randint(0, 60))
    tz = dt.timezone(dt.timedelta(hours=case.tz_hours))
    written = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tz)
    sent = written + dt.timedelta(minutes=rng.randint(8, 55))
    p = case.person or make_person(rng)
    if case.meta.get("kazakh"):  # filled in Kazakh: another person, the same draws after it
        import corpusgen_kazakh

        p = corpusgen_kazakh.make_person(random.Random(case.meta["kazakh"]))
    files: list[tuple[bytes, str, str]] = []
    truth_consumer: dict
    group = 1
    book = case.meta.get("book") or case.sender == CLERK
    if case.doc == "letter":
        o = case.org or make_org(rng, day, varied=bool(case.meta.get("varied_org")))
        group = 2
        imgs = render_letter(
            o,
            case.kind if case.letter_title else None,
            dpi=case.dpi,
            family=case.family,
            rng=rng,
            pages=case.pages,
        )
        truth_consumer = {
            "org_name": o.org_name,
            "outgoing_number": o.number,
            "outgoing_date": o.date.isoformat(),
            "phone": phone_truth(o.phone),
        }
        if o.email:
            truth_consumer["email"] = o.email
    else:
        truth_consumer = {
            "last_name": p.last_name,
            "first_name": p.first_name,
            "patronymic": p.patronymic,
            "address": p.address,
            "phone": phone_truth(p.phone),
            "email": p.email or "",
        }
        if case.doc == "form":
            imgs = render_form(
                p,
                case.kind,
                written.date(),
                dpi=case.dpi,
                family=case.family,
                rng=rng,
                pages=case.pages,
                pen=case.pen,
            )
        elif case.doc == "handwritten":
            imgs = render_handwritten(p, case.kind, written, dpi=case.dpi, rng=rng)
        else:
            imgs = []
    scans = [
        scan(
            im,
            rng,
            dpi=case.dpi,
            skew=case.skew if k == 0 else case.skew * 0.5,
            blur=case.blur,
            noise=case.noise,
            rotate180=case.rotate180,
            quarter=case.quarter,
        )
        for k, im in enumerate(imgs)
    ]
    if scans:
        files = encode(scans, case.fmt, case.dpi, rng, written.replace(tzinfo=None))
    if imgs and case.meta.get("photo"):  # photographed on a desk instead (corpusgen_photo)
        import corpusgen_photo

        files = corpusgen_photo.photographs(imgs, case.meta["photo"], written)

    if case.sender in UNITS:
        unit, channel = UNITS[case.sender]
    elif case.sender == CLERK:
        unit, channel = None, "book"
    elif case.sender == WEBSITE:
        unit, channel = None, "website"
    else:
        unit, channel = None, "email"
    subject, body, from_name, reply_to = _texts(case, p, unit, channel, written, rng, group)
    if group == 2:
        subject = rng.choice(
            [
                f"Исх. № {o.number} от {o.date:%d.%m.%Y}",
                f"Исх. № {o.number}",
                "Письмо",
                f"{o.printed}: письмо",
                "Обращение организации",
            ]
        )
        from_name = o.printed.replace("«", "").replace("»", "").replace('"', "") if rng.random() < 0.6 else ""
    names = _filenames(case, p, written, len(files), rng, channel)
    attachments = [(d, ct, f"{nm}.{ext}") for (d, ct, ext), nm in zip(files, names)]
    if case.extra == "docx":
        attachments.append(
            (
                b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(300)),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "сопроводительное письмо.docx",
            )
        )
    elif case.extra == "zip":
        attachments.append(
            (b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(200)), "application/zip", "фото.zip")
        )
    msgid = f"<{rng.getrandbits(64):016x}.{idx}@{case.sender.split('@')[1]}>"
    msg = EmailMessage()
    msg["Message-ID"] = msgid
    msg["Date"] = format_datetime(sent)
    msg["From"] = f"{from_name} <{case.sender}>" if from_name else case.sender
    msg["To"] = CHANCELLERY
    msg["Subject"] = subject
    if reply_to:
        msg["Reply-To"] = reply_to
    try:
        body.encode(case.charset)
    except UnicodeEncodeError:  # Kazakh letters: only Unicode carries them
        case.charset = "utf-8"
    cte = (
        "8bit"
        if case.charset != "utf-8" and rng.random() < 0.3
        else rng.choice(["base64", "quoted-printable"])
    )
    msg.set_content(body, charset=case.charset, cte=cte)
    for data, ct, name in attachments:
        maintype, subtype = ct.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    msg.set_boundary(f"=_{rng.getrandbits(64):016x}")
    raw = msg.as_bytes(policy=SMTP)
    page_counts = [
        len(imgs) if ct in ("application/pdf", "image/tiff") else 1
        for _, ct, _ in attachments
        if ct.startswith(("image/", "application/pdf"))
    ]
    truth = {
        "message_id": msgid,
        "channel": channel,
        "kind": case.kind,
        "group": group,
        "consumer": truth_consumer,
        "origin_unit": unit if channel in ("res", "service_center") else None,
        "attachments": [
            {"filename": nm, "pages": pc}
            for (_, _, nm), pc in zip(attachments, page_counts + [0] * len(attachments))
        ],
        "book_entry_at": written.isoformat() if book else None,
        "subject": subject,
    }
    if case.doc == "handwritten":
        truth["handwritten"] = True
    if case.meta.get("kazakh"):
        truth["filled"] = "kk"
    what = {
        "form": channel,
        "letter": "legal_entity",
        "website": "website",
        "handwritten": "book-handwritten",
    }[case.doc]
    return raw, truth, f"{idx:03d}-{what}"


def _texts(
    case: Case,
    p: Person,
    unit: str | None,
    channel: str,
    written: dt.datetime,
    rng: random.Random,
    group: int,
) -> tuple[str, str, str, str | None]:
    k = case.kind
    if channel == "website":
        rows = [
            ("Тип обращения", k),
            ("ФИО", " ".join(v for v in (p.last_name, p.first_name, p.patronymic) if v)),
            ("Адрес", p.address),
            ("Телефон", p.phone_printed(rng.randrange(5))),
        ]
        if p.email:
            rows.append(("E-mail", p.email))
        body = (
            "Новое сообщение с сайта (раздел «Обратная связь»)\n\n"
            + "\n".join(f"{a}: {b}" for a, b in rows)
            + "\n\nТекст сообщения:\n"
            + rng.choice(TEXTS[k])
            + "\n"
        )
        return f"Обратная связь: {k}", body, "Сайт", p.email or None
    if channel == "book":
        stamp = written.strftime("%d.%m.%Y %H:%M")
        body = (
            f"Добрый день.\nНаправляю скан записи в Книге отзывов и предложений, внесённой "
            f"потребителем {written:%d.%m.%Y} в {written:%H:%M}.\n\nСотрудник канцелярии\n"
        )
        return f"Книга отзывов и предложений: запись от {stamp}", body, "Канцелярия", None
    if group == 2:
        body = "Направляем письмо во вложении. Просим зарегистрировать и сообщить входящий номер.\n"
        return "", body, "", None
    if channel == "email":  # a consumer writing in person
        body = "Здравствуйте! Направляю своё обращение, скан во вложении.\n" + p.last_name + "\n"
        return "Обращение", body, f"{p.first_name} {p.last_name}", None
    style = case.body_style
    initial = p.first_name[0]
    if style == 0:
        line = f"Направляю {KIND_ACC[k]} потребителя {p.genitive} {initial}., поступившее в {unit}."
        subj = f"Обращение потребителя {p.last_name}"
    elif style == 1:
        line = f"Направляю {k} потребителя {p.last_name} {initial}., поступившую в {unit}."
        subj = rng.choice([f"{k.capitalize()} от потребителя", "скан"])
    elif style == 2:
        line = "Во вложении скан обращения потребителя. Оригинал передадим на совещании."
        subj = f"{unit}: входящее обращение"
    else:
        line = f"Добрый день. Пересылаю обращение, поступившее в {unit}."
        subj = "скан"
    return subj, f"{line}\n\nНачальник {unit}\n", f"Начальник {unit}", None


def _filenames(
    case: Case, p: Person, written: dt.datetime, n: int, rng: random.Random, channel: str
) -> list[str]:
    if channel == "book":
        base = f"Книга отзывов {written:%d.%m.%Y}"
    elif case.doc == "letter":
        base = rng.choice(["Исх письмо", "письмо", "Претензия", "scan"])
    else:
        base = rng.choice(
            [
                f"Сканированный документ {rng.randint(1, 99)}",
                f"{case.kind} {p.last_name}",
                f"scan_{written:%Y%m%d}_{rng.randint(1, 999):03d}",
                "Обращение (копия)",
            ]
        )
    return [base if n == 1 else f"{base} стр{i + 1}" for i in range(n)]


def plan_letters(n: int, rng: random.Random, families: list[str] | None = None) -> list[Case]:
    """Organisations' letters only, of every legal form and quoting (`--letters`)."""
    families = families or installed_families()
    cases = []
    for _ in range(n):
        kind = rng.choice(["жалоба", "претензия", "претензия", "заявление", "предложение"])
        c = Case(doc="letter", sender=f"office{rng.randint(1, 99)}@client.example", kind=kind)
        c.family = rng.choice(families)
        c.dpi = rng.choice([200, 240, 300, 300])
        c.fmt = rng.choice(["jpeg", "pdf", "pdf", "png1", "png"])
        c.skew = rng.uniform(-2.0, 2.0)
        c.blur = rng.choice([0, 0, 0.5, 0.8])
        c.noise = rng.choice([0, 4, 8])
        c.charset = rng.choice(["utf-8", "windows-1251"])
        c.meta["varied_org"] = True
        cases.append(c)
    return cases


def generate(
    out_dir: str | Path,
    n: int = 60,
    seed: int = 7,
    cases: list[Case] | None = None,
    base_day: dt.date = dt.date(2026, 3, 2),
    kazakh: float = 0.0,
) -> list[dict]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cases = cases if cases is not None else plan(n, rng)
    truths = []
    for i, case in enumerate(cases):
        if kazakh and case.doc != "letter":  # a share of people write in Kazakh (corpusgen_kazakh)
            import corpusgen_kazakh

            if corpusgen_kazakh.wanted(seed, i, kazakh):
                case.meta["kazakh"] = f"{seed}-{i}-kk-person"
        crng = random.Random(f"{seed}-{i}")
        raw, truth, stem = build(case, i, crng, base_day)
        (out / f"{stem}.eml").write_bytes(raw)
        truth["file"] = f"{stem}.eml"
        truths.append(truth)
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for t in truths:
            fh.write(json.dumps(t, ensure_ascii=False) + "\n")
    return truths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--letters", action="store_true", help="organisations' letters only, every legal form")
    ap.add_argument(
        "--free",
        action="store_true",
        help="free-form appeals, not on the regulation's forms: consumers' typed letters scanned and "
        "forwarded by RES/RUSE/service-centre chiefs, and consumers' own e-mails, Russian and Kazakh "
        "(format of shared/corpus/free; see tests/corpusgen_free.py)",
    )
    ap.add_argument(
        "--kazakh",
        type=float,
        nargs="?",
        const=1.0,
        default=0.0,
        metavar="SHARE",
        help="this share of the people (all when no SHARE is given) fill forms, the Book and the website "
        "in Kazakh; see tests/corpusgen_kazakh.py",
    )
    ap.add_argument(
        "--photo",
        action="store_true",
        help="forms photographed on a desk by district chiefs' phones (see tests/corpusgen_photo.py)",
    )
    args = ap.parse_args(argv)
    if args.photo:
        import corpusgen_photo

        truths = corpusgen_photo.generate_photos(args.out, args.n, args.seed)
        print(f"{len(truths)} photographed forms in {args.out}")
        return 0
    if args.free:
        import corpusgen_free

        notes: list[dict] = []
        truths = corpusgen_free.generate_free(args.out, args.n, args.seed, notes=notes)
        print(f"{len(truths)} free-form messages in {args.out}\n{corpusgen_free.summary(notes)}")
        return 0
    cases = plan_letters(args.n, random.Random(args.seed)) if args.letters else None
    truths = generate(args.out, args.n, args.seed, cases=cases, kazakh=args.kazakh)
    print(f"{len(truths)} messages in {args.out} (fonts: {', '.join(installed_families())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
