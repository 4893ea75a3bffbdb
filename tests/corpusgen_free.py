"""Free-form appeals for `corpusgen.py --free`: appeals that are NOT on the regulation's forms.

    python tests/corpusgen.py OUT_DIR --free [--n 40] [--seed 101]

writes OUT_DIR/NNN-free.eml and OUT_DIR/truth.jsonl in the format of
shared/corpus/free/truth.jsonl. It is a test corpus for a free-text reader and
is written without looking at that reader: the declension of names, the
addresses and phones below are this generator's own.

Two families, about half each:

* typed letters a consumer brought to a RES, RUSE or the service centre,
  scanned by the chief and forwarded with a covering note (channel `res` or
  `service_center`, `origin_unit` the chief's unit): a header to the director
  ("Генеральному директору АО «СЕВКАЗЭНЕРГО»", "Директору ТОО …",
  "В АО …", "Начальнику Есильского РЭС"; Kazakh "«СЕВКАЗЭНЕРГО» АҚ Бас
  директорына"), "от [гр.] <name in the genitive>" (sometimes left in the
  nominative; in Kazakh "… мекенжайы бойынша тұратын <name + ablative>"),
  the address on one or two lines, a phone, a title or none (then the first
  sentence names the kind), the text, a date and a signature. Set in every
  suitable installed font (DejaVu, Liberation, Carlito, PT), header left or
  right, title centred or not, body justified or ragged, one or two pages;
  scanned at 200-300 dpi with skew, blur and noise (corpusgen's scanner) and
  attached as JPEG, PNG or image-only PDF.
* consumers' own e-mails (channel `email`, consumer.email = the sender):
  "Я, <ФИО>, проживающий по адресу …", signature blocks, "Мой адрес: …",
  "Контактный телефон: …", a few letter-like bodies and a few scans attached;
  subjects naming the kind or only the topic; From in Cyrillic, Latin or
  empty; UTF-8, windows-1251, KOI8-R, plain, HTML-only or both.

About a fifth of the messages are in Kazakh. A few are hard but fair: a
phone or an address the letter does not give (null in the truth), no
patronymic, the Cyrillic name only in the signature under a Latin From, the
name written first-patronymic-last, a chief's own name and phone in the
covering note.

Truth conventions: names in the nominative as the person writes them (Kazakh
patronymics -ұлы/-қызы kept); the address as written, a line break read as a
space (so an address on two lines is one string, "…, ул. Мира, д. 7"), with
what the writer put before the town (a district, "СКО") and without the label
("проживающего по адресу:", "Мекенжайы:"); the phone as "+7 7xx xxx xx xx";
`email` present for e-mails (the sender) and for letters that print one,
absent otherwise, as in the shared sample.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import random
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import corpusgen as cg
from PIL import Image, ImageChops, ImageFont

A4 = cg.A4

# --- fonts -------------------------------------------------------------------

FREE_FONTS = {  # family -> (regular, bold), under a fonts root; weight = how often letters use it
    "Liberation Serif": (
        "liberation2/LiberationSerif-Regular.ttf",
        "liberation2/LiberationSerif-Bold.ttf",
        6,
    ),
    "PT Serif": ("paratype/PTF55F.ttf", "paratype/PTF75F.ttf", 3),
    "DejaVu Serif": ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf", 2),
    "DejaVu Serif Condensed": ("dejavu/DejaVuSerifCondensed.ttf", "dejavu/DejaVuSerifCondensed-Bold.ttf", 1),
    "PT Serif Caption": ("paratype/PTZ55F.ttf", "paratype/PTZ55F.ttf", 1),
    "Liberation Sans": ("liberation2/LiberationSans-Regular.ttf", "liberation2/LiberationSans-Bold.ttf", 3),
    "DejaVu Sans": ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", 2),
    "DejaVu Sans Condensed": ("dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf", 1),
    "Carlito": ("crosextra/Carlito-Regular.ttf", "crosextra/Carlito-Bold.ttf", 3),
    "PT Sans": ("paratype/PTS55F.ttf", "paratype/PTS75F.ttf", 2),
    "PT Sans Narrow": ("paratype/PTN57F.ttf", "paratype/PTN77F.ttf", 1),
    "PT Sans Caption": ("paratype/PTC55F.ttf", "paratype/PTC75F.ttf", 1),
    "Liberation Mono": ("liberation2/LiberationMono-Regular.ttf", "liberation2/LiberationMono-Bold.ttf", 1),
    "PT Mono": ("paratype/PTM55F.ttf", "paratype/PTM75F.ttf", 1),
    "DejaVu Sans Mono": ("dejavu/DejaVuSansMono.ttf", "dejavu/DejaVuSansMono-Bold.ttf", 1),
}


def _find(rel: str) -> str | None:
    for root in cg.FONT_ROOTS:
        if (root / rel).is_file():
            return str(root / rel)
    return None


def free_families() -> list[str]:
    """The families of FREE_FONTS installed here (all carry Cyrillic and Kazakh letters)."""
    return [fam for fam, (reg, _, _) in FREE_FONTS.items() if _find(reg)]


def free_font_path(family: str, bold: bool = False) -> str:
    reg, bld, _ = FREE_FONTS.get(family, FREE_FONTS["DejaVu Sans"])
    return _find(bld if bold else reg) or _find(reg) or cg.font_path("DejaVu Sans")


# --- names and their declension ------------------------------------------------

RU_SURNAMES = [  # masculine; the feminine is made by `feminine_surname`
    "Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов",
    "Новиков", "Федоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Сергеев",
    "Кириллов", "Ильин", "Гусев", "Титов", "Кузьмин", "Белов", "Комаров", "Белоусов",
    "Гончаров", "Шевченко", "Петренко", "Карпенко", "Бондаренко", "Кравченко", "Ткаченко",
    "Марченко", "Литвиненко", "Ковальчук", "Полищук", "Мельничук", "Ким", "Шмидт",
    "Вишневский", "Завадский", "Ковальский", "Белецкий", "Черных", "Седых",
]  # fmt: skip
KZ_RU_SURNAMES = [
    "Ахметов", "Касымов", "Нурланов", "Жумабеков", "Бекмухамбетов", "Сатпаев", "Тлеубаев",
    "Есенов", "Мусин", "Искаков", "Байжанов", "Абдрахманов", "Жунусов", "Кенжебаев",
    "Сулейменов", "Омаров", "Садыков", "Мухаметжанов", "Оспанов", "Калиев", "Смагулов",
    "Ибраев", "Бейсенов", "Кусаинов", "Нургалиев", "Ержанов", "Рахимов", "Муканов", "Амренов",
    "Жакупов", "Шаймарданов", "Габдуллин", "Байгожин", "Уалиев", "Жумабаев",
]  # fmt: skip
KZ_KZ_SURNAMES = [
    "Қасымов", "Серікбаев", "Құлжанов", "Жұмабаев", "Әбдірахманов", "Нұрғалиев", "Төлеуов",
    "Сәрсенбаев", "Ысқақов", "Байғожин", "Мұқанов", "Оспанов", "Әлімжанов", "Ғабдуллин",
    "Қожахметов", "Бекмұхамбетов", "Сейітқалиев", "Тоқтаров", "Әбілов", "Шәймерденов",
    "Құсайынов", "Жақыпов", "Ержанов", "Ибраев",
]  # fmt: skip
RU_MALE = [
    "Александр", "Сергей", "Андрей", "Алексей", "Николай", "Дмитрий", "Юрий", "Виталий",
    "Геннадий", "Евгений", "Василий", "Владимир", "Виктор", "Игорь", "Олег", "Павел", "Пётр",
    "Михаил", "Иван", "Роман", "Константин", "Антон", "Денис", "Максим", "Вадим", "Илья",
    "Никита", "Анатолий", "Валерий", "Григорий", "Степан",
]  # fmt: skip
RU_FEMALE = [
    "Ольга", "Наталья", "Мария", "Татьяна", "Елена", "Светлана", "Ирина", "Людмила", "Марина",
    "Анна", "Екатерина", "Юлия", "Валентина", "Галина", "Надежда", "Любовь", "Оксана", "Нина",
    "Вера", "Лариса", "Тамара", "Евгения", "Виктория", "Анастасия", "Ксения", "Дарья", "Софья",
    "Алёна",
]  # fmt: skip
KZ_RU_MALE = [
    "Бауыржан", "Ерлан", "Асхат", "Айдар", "Марат", "Нурлан", "Канат", "Талгат", "Даурен",
    "Ержан", "Серик", "Болат", "Арман", "Руслан", "Бахыт", "Жандос", "Ермек", "Мухтар", "Аскар",
    "Азамат", "Алмас", "Берик", "Габит", "Дархан", "Кайрат", "Ерболат", "Тимур", "Самат",
    "Ерасыл", "Олжас", "Нуржан", "Максат",
]  # fmt: skip
KZ_RU_FEMALE = [
    "Айгуль", "Гульнара", "Динара", "Сауле", "Жанар", "Асель", "Алия", "Айнур", "Гаухар",
    "Меруерт", "Айжан", "Ботагоз", "Салтанат", "Бибигуль", "Назгуль", "Камила", "Самал", "Жибек",
    "Асем", "Аружан", "Мадина", "Зарина", "Дана", "Карлыгаш", "Роза", "Айман", "Гульмира",
    "Жулдыз", "Ляззат", "Айслу", "Акмарал",
]  # fmt: skip
KZ_KZ_MALE = [
    "Дәурен", "Қайрат", "Ерасыл", "Ғалым", "Әділ", "Нұрлан", "Бауыржан", "Асхат", "Ерлан",
    "Қанат", "Серік", "Болат", "Арман", "Жандос", "Ермек", "Мұхтар", "Асқар", "Азамат", "Алмас",
    "Берік", "Ғабит", "Дархан", "Олжас", "Нұржан", "Еркін",
]  # fmt: skip
KZ_KZ_FEMALE = [
    "Әсел", "Жұлдыз", "Айгүл", "Гүлнар", "Сәуле", "Жанар", "Әлия", "Айнұр", "Гауһар", "Меруерт",
    "Айжан", "Ботагөз", "Салтанат", "Назгүл", "Самал", "Жібек", "Әсем", "Аружан", "Мадина", "Дана",
    "Қарлығаш", "Айман", "Гүлмира", "Ләззат", "Ақмарал", "Ақерке",
]  # fmt: skip
RU_PATRONYMICS = [
    ("Иванович", "Ивановна"), ("Петрович", "Петровна"), ("Сергеевич", "Сергеевна"),
    ("Николаевич", "Николаевна"), ("Александрович", "Александровна"), ("Викторович", "Викторовна"),
    ("Владимирович", "Владимировна"), ("Алексеевич", "Алексеевна"), ("Юрьевич", "Юрьевна"),
    ("Михайлович", "Михайловна"), ("Андреевич", "Андреевна"), ("Васильевич", "Васильевна"),
    ("Геннадьевич", "Геннадьевна"), ("Анатольевич", "Анатольевна"), ("Ильич", "Ильинична"),
    ("Никитич", "Никитична"), ("Павлович", "Павловна"), ("Григорьевич", "Григорьевна"),
    ("Олегович", "Олеговна"),
]  # fmt: skip
KZ_RU_PATRONYMICS = [
    ("Серикович", "Сериковна"), ("Болатович", "Болатовна"), ("Маратович", "Маратовна"),
    ("Ерланович", "Ерлановна"), ("Кайратович", "Кайратовна"), ("Нурланович", "Нурлановна"),
    ("Канатович", "Канатовна"), ("Бахытович", "Бахытовна"), ("Амангельдиевич", "Амангельдиевна"),
    ("Талгатович", "Талгатовна"), ("Жумабекович", "Жумабековна"), ("Мухтарович", "Мухтаровна"),
    ("Габитович", "Габитовна"), ("Аскарович", "Аскаровна"), ("Бауыржанович", "Бауыржановна"),
]  # fmt: skip
KZ_FATHERS = [  # Kazakh patronymics: the father's name + ұлы / қызы
    "Ғабит", "Қанат", "Әділ", "Серік", "Болат", "Марат", "Ерлан", "Нұрлан", "Қайрат", "Бахыт",
    "Талғат", "Асқар", "Мұхтар", "Жұмабек", "Бауыржан", "Амангелді", "Сәкен", "Төлеген",
]  # fmt: skip

VOWELS = set("аеёиоуыэюяәөұүі")
HUSHING_VELAR = set("гкхжшчщқғ")  # after these, -а gives -и, not -ы
FIRST_NAME_GENITIVE = {"Павел": "Павла", "Пётр": "Петра", "Петр": "Петра", "Лев": "Льва", "Любовь": "Любови"}
KAZAKH_PATRONYMIC = ("ұлы", "қызы", "улы", "кызы")


def feminine_surname(s: str) -> str:
    if s.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return s + "а"
    if s.endswith(("ский", "цкий")):
        return s[:-2] + "ая"
    return s  # -ко, -ук, -их/-ых, Ким, Шмидт: one form for both


def _first_declension(s: str) -> str:
    """Genitive of a noun in -а/-я: Ольга -> Ольги, Гульнара -> Гульнары, Мария -> Марии."""
    if s.endswith("я"):
        return s[:-1] + "и"
    return s[:-1] + ("и" if s[-2] in HUSHING_VELAR else "ы")


def surname_genitive(s: str, female: bool) -> str:
    if female:
        if s.endswith(("ова", "ева", "ёва", "ина", "ына")):
            return s[:-1] + "ой"
        if s.endswith(("ская", "цкая")):
            return s[:-2] + "ой"
        return s  # Петренко, Ковальчук, Ким, Черных
    if s.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return s + "а"
    if s.endswith(("ский", "цкий")):
        return s[:-2] + "ого"
    if s.endswith(("ых", "их")) or s[-1] in VOWELS:
        return s  # Черных, Петренко
    if s.endswith(("ь", "й")):
        return s[:-1] + "я"
    return s + "а"  # Ковальчук -> Ковальчука, Ким -> Кима


def first_name_genitive(s: str, female: bool) -> str:
    if s in FIRST_NAME_GENITIVE:
        return FIRST_NAME_GENITIVE[s]
    if s.endswith(("а", "я")):
        return _first_declension(s)  # Никита, Илья too
    if female:
        return s[:-1] + "и" if s.endswith("ь") else s  # Айгуль -> Айгули; Жұлдыз, Сауле stay
    if s.endswith(("й", "ь")):
        return s[:-1] + "я"  # Сергей -> Сергея, Игорь -> Игоря
    if s[-1] in VOWELS:
        return s
    return s + "а"


def patronymic_genitive(s: str) -> str:
    if s.endswith(KAZAKH_PATRONYMIC):
        return s
    if s.endswith("ич"):
        return s + "а"
    if s.endswith("на"):
        return s[:-1] + "ы"
    return s


def kazakh_ablative(word: str) -> str:
    """ "from": Ғабитұлы -> Ғабитұлынан, Дәурен -> Дәуреннен, Асхат -> Асхаттан, Әсел -> Әселден."""
    low = word.lower()
    if low.endswith(KAZAKH_PATRONYMIC):  # a possessive form (his son): -нан
        return word + "нан"
    front = next((c in "әеөүіиэ" for c in reversed(low) if c in VOWELS and c != "у"), False)
    last = low[-1]
    if last in "мнң":
        stem = "н"
    elif last in VOWELS or last in "лрйзж":
        stem = "д"
    else:
        stem = "т"
    return word + stem + ("ен" if front else "ан")


@dataclass
class Person:
    last: str
    first: str
    patr: str | None
    female: bool
    script: str  # "ru": Russian spelling; "kz": Kazakh spelling (-ұлы/-қызы)
    address: str | None = None
    phone: str | None = None  # +7XXXXXXXXXX
    email: str | None = None
    lang: str = "ru"  # the language the person writes in
    email_in_letter: bool = False  # the typed letter prints the e-mail address

    @property
    def nominative(self) -> str:
        return " ".join(v for v in (self.last, self.first, self.patr) if v)

    @property
    def genitive(self) -> str:
        parts = [surname_genitive(self.last, self.female), first_name_genitive(self.first, self.female)]
        if self.patr:
            parts.append(patronymic_genitive(self.patr))
        return " ".join(parts)

    @property
    def ablative(self) -> str:
        """Kazakh "from <name>": the suffix on the last word only."""
        words = self.nominative.split()
        return " ".join(words[:-1] + [kazakh_ablative(words[-1])])

    @property
    def initials(self) -> str:
        return self.first[0] + "." + (self.patr[0] + "." if self.patr else "")

    def signed(self, style: int) -> str:
        return [f"{self.last} {self.initials}", f"{self.initials} {self.last}"][style % 2]

    @property
    def surname_initials_genitive(self) -> str:
        return f"{surname_genitive(self.last, self.female)} {self.initials}"


def genitive(last: str, first: str, patr: str | None, female: bool) -> str:
    return Person(last, first, patr, female, "ru").genitive


# --- places ------------------------------------------------------------------

RU_TOWNS = [("г.", "Петропавловск", None)] * 4 + [
    ("г.", "Булаево", None),
    ("г.", "Мамлютка", None),
    ("г.", "Сергеевка", None),
    ("г.", "Тайынша", None),
]
RU_VILLAGES = [  # (village, district as the adjective of "район")
    ("Явленка", "Есильский"),
    ("Саумалколь", "Айыртауский"),
    ("Володаровка", "Айыртауский"),
    ("Арыкбалык", "Айыртауский"),
    ("Бесколь", "Кызылжарский"),
    ("Соколовка", "Кызылжарский"),
    ("Смирново", "Аккайынский"),
    ("Кишкенеколь", "Уалихановский"),
    ("Тимирязево", "Тимирязевский"),
    ("Пресновка", "Жамбылский"),
    ("Келлеровка", "Тайыншинский"),
    ("Чкалово", "Тайыншинский"),
    ("Талшик", "Акжарский"),
    ("Новоишимское", None),
    ("Рузаевка", None),
]
RU_STREETS = [
    "Абая", "Мира", "Пушкина", "Жамбыла", "Интернациональная", "Конституции Казахстана",
    "Победы", "Букетова", "Шокана Уалиханова", "Жумабаева", "Сатпаева", "Ленина", "Гоголя",
    "Степная", "Садовая", "Строительная", "Кошукова", "Молодёжная", "30 лет Победы", "Ауэзова",
    "Мусрепова", "Таштинова", "Казахстанской правды", "Парковая", "Юбилейная", "Рабочая",
    "Советская", "Школьная", "Целинная", "Северная", "Полевая", "Гагарина", "Чапаева",
    "Маяковского", "Новая", "Береговая",
]  # fmt: skip
KK_SETTLEMENTS = [  # (name, kind, district)
    ("Петропавл", "қаласы", None),
    ("Петропавл", "қаласы", None),
    ("Петропавл", "қаласы", None),
    ("Булаев", "қаласы", None),
    ("Мамлют", "қаласы", None),
    ("Тайынша", "қаласы", None),
    ("Явленка", "ауылы", "Есіл"),
    ("Сәумалкөл", "ауылы", "Айыртау"),
    ("Бесқол", "ауылы", "Қызылжар"),
    ("Смирново", "ауылы", "Аққайың"),
    ("Кішкенекөл", "ауылы", "Уәлиханов"),
    ("Пресновка", "ауылы", "Жамбыл"),
    ("Талшық", "ауылы", "Ақжар"),
    ("Соколовка", "ауылы", "Қызылжар"),
]
KK_STREETS = [
    "Абай", "Қазыбек би", "Мағжан Жұмабаев", "Шоқан Уәлиханов", "Жамбыл", "Мұхтар Әуезов",
    "Тәуелсіздік", "Бейбітшілік", "Жеңіс", "Достық", "Ыбырай Алтынсарин", "Сәбит Мұқанов",
    "Бауыржан Момышұлы", "Наурыз", "Бірлік", "Жастар",
]  # fmt: skip


def ru_address(rng: random.Random) -> str:
    if rng.random() < 0.55:
        kind, town, district = rng.choice(RU_TOWNS)
        flat = rng.random() < 0.55
    else:
        town, district = rng.choice(RU_VILLAGES)
        kind = rng.choice(["с.", "с.", "с.", "село"])
        flat = rng.random() < 0.15
    street = rng.choice(RU_STREETS)
    house = str(rng.randint(1, 160))
    if rng.random() < 0.08:
        house += rng.choice(["А", "Б", "/1", "/2"])
    apt = rng.randint(1, 120)
    style = rng.randrange(10)
    if style == 9 and kind in ("г.", "с."):  # everything in full words
        place = ("город " if kind == "г." else "село ") + town
        out = f"{place}, улица {street}, дом {house}" + (f", квартира {apt}" if flat else "")
    else:
        s = rng.choice(["ул.", "ул.", "ул.", "ул.", "улица"])
        if style in (0, 1, 2, 3, 4):
            rest = f"{s} {street}, д. {house}" + (f", кв. {apt}" if flat else "")
        elif style in (5, 6):
            rest = f"{s} {street}, {house}" + (f", кв. {apt}" if flat else "")
        elif style == 7:
            rest = f"{s} {street}, {house}" + (f"-{apt}" if flat else "")
        else:
            rest = f"{s} {street}, дом {house}" + (f", кв. {apt}" if flat else "")
        out = f"{kind} {town}, {rest}"
    if district and rng.random() < 0.3:
        out = rng.choice([f"{district} район, ", f"{district} р-н, ", f"СКО, {district} район, "]) + out
    return out


def kk_address(rng: random.Random) -> str:
    town, kind, district = rng.choice(KK_SETTLEMENTS)
    flat = rng.random() < (0.6 if kind == "қаласы" else 0.2)
    street = rng.choice(KK_STREETS)
    house, apt = rng.randint(1, 140), rng.randint(1, 110)
    if rng.random() < 0.75:
        rest = f"{street} көшесі, {house} үй" + (f", {apt} пәтер" if flat else "")
    else:
        rest = f"{street} көшесі, {house}-үй" + (f", {apt}-пәтер" if flat else "")
    out = f"{town} {kind}, {rest}"
    if district and rng.random() < 0.3:
        out = f"{district} ауданы, " + out
    return out


MOBILE = ["700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"]


def phone_printed(e164: str, style: int) -> str:
    d = e164[2:]
    return [
        f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
        f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
        f"+7({d[:3]}){d[3:]}",
        f"8{d}",
        f"+7 {d[:3]} {d[3:]}",
        f"8 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
        f"8-{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:]}",
        f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
        f"8({d[:3]}){d[3:]}",
    ][style % 9]


def phone_truth(e164: str | None) -> str | None:
    return cg.phone_truth(e164) if e164 else None


TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya a g k n o u u h i".split(),
    )
)


def translit(s: str) -> str:
    out = []
    for ch in s:
        t = TRANSLIT.get(ch.lower())
        if t is None:
            out.append(ch)
            continue
        t = "" if t == "-" else t
        out.append(t.capitalize() if ch.isupper() else t)
    return "".join(out)


DOMAINS = ["mail.example", "inbox.example", "post.example", "kz-mail.example", "list.example", "bk.example"]


def make_email(p: Person, rng: random.Random) -> str:
    f, last = translit(p.first).lower(), translit(p.last).lower()
    local = rng.choice(
        [
            f"{f}.{rng.randint(10, 99)}",
            f"{last}_{f[0]}{rng.randint(60, 99)}",
            f"{f}{last[:1]}{rng.randint(1, 999)}",
            f"{last}.{f}",
            f"kz{rng.randint(100, 9999)}",
            f"mail{rng.randint(100, 9999)}",
            f"{f}_{rng.choice(['nsk', 'petro', 'sko', 'kz'])}",
        ]
    )
    return f"{local}@{rng.choice(DOMAINS)}"


def make_person(rng: random.Random, lang: str) -> Person:
    female = rng.random() < 0.5
    if lang == "kk":
        script = "kz"
    else:
        script = rng.choices(["ru", "kzru", "kz"], [5, 5, 1])[0]
    if script == "ru":
        last = rng.choice(RU_SURNAMES)
        first = rng.choice(RU_FEMALE if female else RU_MALE)
        patr = rng.choice(RU_PATRONYMICS)[female]
    elif script == "kzru":
        last = rng.choice(KZ_RU_SURNAMES)
        first = rng.choice(KZ_RU_FEMALE if female else KZ_RU_MALE)
        if rng.random() < 0.12:  # a mixed family: a Russian first name
            first = rng.choice(RU_FEMALE if female else RU_MALE)
        patr = rng.choice(KZ_RU_PATRONYMICS)[female]
    else:
        last = rng.choice(KZ_KZ_SURNAMES)
        first = rng.choice(KZ_KZ_FEMALE if female else KZ_KZ_MALE)
        patr = rng.choice(KZ_FATHERS) + ("қызы" if female else "ұлы")
    if female:
        last = feminine_surname(last)
    p = Person(last, first, patr, female, "kz" if script == "kz" else "ru", lang=lang)
    p.address = kk_address(rng) if lang == "kk" else ru_address(rng)
    p.phone = "+7" + rng.choice(MOBILE) + f"{rng.randint(0, 9999999):07d}"
    return p


# --- words -------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    kind: str
    topics: tuple[str, ...]  # subjects that name only the topic
    subjects: tuple[str, ...]  # subjects that name the kind
    body: str
    mixed: bool = False  # the text uses another kind's word: the kind must be named outright
    title_tail: str = ""  # "о возмещении ущерба" after ПРЕТЕНЗИЯ


RU_TEXTS = [
    Text("жалоба", ("Нет света", "Отключение электроэнергии", "Отсутствие электроэнергии"),
         ("Жалоба на отключение света", "Жалоба на отсутствие электроэнергии"),
         "{d1} с {t1} до {t2} по моему адресу отсутствовало электроснабжение. На звонки в "
         "диспетчерскую никто не отвечал. Прошу разобраться и принять меры к виновным."),
    Text("жалоба", ("Скачки напряжения", "Сгорел холодильник"), ("Жалоба на скачки напряжения",),
         "Третий раз за месяц происходят скачки напряжения, в результате вышел из строя "
         "холодильник. Работники РЭС на заявку не выехали, хотя я звонил{a} дважды."),
    Text("жалоба", ("Уличное освещение", "Не горят фонари"), ("Жалоба на уличное освещение",),
         "Вторую неделю на нашей улице не работает уличное освещение. Обращения по телефону "
         "результата не дали, вечером дети возвращаются из школы в полной темноте."),
    Text("жалоба", ("Грубость сотрудника", "Отношение к потребителям"),
         ("Жалоба на сотрудника абонентского отдела",),
         "{d1} сотрудник абонентского отдела отказался принять показания счётчика и разговаривал "
         "со мной грубо. Прошу провести проверку и принять меры."),
    Text("жалоба", ("Отключение без предупреждения",), ("Жалоба на отключение без предупреждения",),
         "{d1} электроэнергию на нашей улице отключили на весь день без всякого предупреждения. "
         "Объявлений не было, SMS не приходили. Из-за этого испортились продукты в холодильнике."),
    Text("жалоба", ("Нет ответа", "Никто не пришёл"), ("Жалоба на бездействие",),
         "{d2} я подавал{a} заявление о замене неисправного счётчика, однако до сих пор специалист "
         "не пришёл и ответа я не получил{a}.", mixed=True),
    Text("жалоба", ("Провисли провода", "Провода"), ("Жалоба: провисшие провода",),
         "После сильного ветра {d1} провода линии электропередачи у нашего дома провисли почти до "
         "земли. Заявку в РЭС передавали дважды, никто не приехал. Это опасно для жизни детей и "
         "прохожих."),
    Text("претензия", ("Перерасчёт", "Счёт за {month}", "Неверное начисление"),
         ("Претензия по счёту за {month}", "Претензия: перерасчёт за {month}"),
         "В счёте за {month} начислено {kwh1} кВт·ч, тогда как фактический расход по показаниям "
         "счётчика составил {kwh2} кВт·ч. Требую произвести перерасчёт и вернуть излишне "
         "уплаченные {sum} тенге.", title_tail="о перерасчёте"),
    Text("претензия", ("Возмещение ущерба", "Сгорела техника"), ("Претензия о возмещении ущерба",),
         "В результате перепада напряжения {d1} у меня сгорели телевизор и стиральная машина. "
         "Требую возместить причинённый ущерб в размере {sum} тенге в течение 30 календарных дней. "
         "Акт осмотра техники прилагаю.", title_tail="о возмещении ущерба"),
    Text("претензия", ("Ремонт котла", "Вышел из строя котёл"), ("Претензия: ремонт котла",),
         "{d1} после аварийного отключения и повторной подачи напряжения вышел из строя газовый "
         "котёл. Стоимость ремонта по квитанции сервисной мастерской составила {sum} тенге. "
         "Требую возместить мои расходы в течение 10 календарных дней.",
         title_tail="о возмещении ущерба"),
    Text("претензия", ("Двойная оплата", "Повторное списание"), ("Претензия о возврате денег",),
         "За {month} мне дважды начислили плату за электроэнергию, и оба платежа были списаны с "
         "моей карты. Требую вернуть {sum} тенге, уплаченные повторно.",
         title_tail="о возврате денежных средств"),
    Text("заявление", ("Замена счётчика", "Счётчик"),
         ("Заявление на замену счётчика", "Заявление о замене прибора учёта"),
         "Прошу произвести замену прибора учёта электроэнергии по моему адресу в связи с его "
         "неисправностью. Пломба на счётчике повреждена не по моей вине."),
    Text("заявление", ("Технические условия", "Подключение дома"), ("Заявление на технические условия",),
         "Прошу выдать технические условия на подключение жилого дома к электрическим сетям. "
         "Необходимая мощность {kw} кВт, напряжение 220 В."),
    Text("заявление", ("Переоформление лицевого счёта",), ("Заявление о переоформлении лицевого счёта",),
         "Прошу переоформить лицевой счёт на моё имя в связи со сменой собственника дома. Копию "
         "договора купли-продажи прилагаю."),
    Text("заявление", ("Перенос опоры", "Столб во дворе"), ("Заявление о переносе опоры",),
         "Прошу перенести опору линии электропередачи, установленную у въезда в мой двор. Опора "
         "мешает проезду транспорта и заметно наклонилась."),
    Text("заявление", ("Акт сверки",), ("Заявление на акт сверки",),
         "Прошу выдать акт сверки расчётов за электроэнергию за {year} год по моему лицевому счёту "
         "№ {acct}."),
    Text("заявление", ("Опломбирование счётчика", "Пломба"), ("Заявление на опломбирование",),
         "Прошу направить специалиста для опломбирования нового счётчика, установленного мной {d1}. "
         "Старый счётчик сохранён и может быть предъявлен."),
    Text("отзыв", ("Благодарность", "Спасибо бригаде"), ("Отзыв о работе бригады",),
         "Благодарю бригаду РЭС за быстрое устранение аварии {d1}. Работники приехали через час "
         "после звонка и всё сделали аккуратно."),
    Text("отзыв", ("Обслуживание в сервис-центре",), ("Отзыв об обслуживании",),
         "Хочу отметить вежливое обслуживание в сервис-центре. Оператор подробно объяснила порядок "
         "расчётов и помогла оформить документы без очереди."),
    Text("отзыв", ("Контакт-центр",), ("Отзыв о контакт-центре",),
         "Дозвониться в контакт-центр стало заметно проще, оператор быстро принял заявку, а "
         "аварийная бригада приехала в тот же вечер. Спасибо за работу."),
    Text("отзыв", ("Работа электромонтёров", "Замена ввода"), ("Отзыв о работе электромонтёров",),
         "{d1} электромонтёры заменили ввод в мой дом. Работу выполнили качественно и в срок, мусор "
         "после себя убрали. Особая благодарность мастеру участка Сергееву Н.П."),
    Text("предложение", ("Терминал оплаты", "Часы приёма"), ("Предложение по работе сервис-центра",),
         "Предлагаю установить в сервис-центре терминал для оплаты без комиссии и продлить часы "
         "приёма граждан до 19:00 в будние дни."),
    Text("предложение", ("SMS об отключениях", "Уведомления об отключениях"),
         ("Предложение: SMS об отключениях",),
         "Предлагаю рассылать SMS-уведомления о плановых отключениях электроэнергии за сутки до "
         "отключения."),
    Text("предложение", ("Показания онлайн", "Передача показаний"), ("Предложение по передаче показаний",),
         "Предлагаю сделать возможность передавать показания счётчика через мессенджер или на "
         "сайте, без визита в абонентский отдел."),
    Text("предложение", ("Приём по субботам",), ("Предложение о приёме граждан",),
         "Предлагаю ввести приём граждан в субботу хотя бы до обеда: в будние дни работающим людям "
         "прийти в абонентский отдел невозможно."),
    Text("предложение", ("Освещение остановки",), ("Предложение по освещению",),
         "Предлагаю установить фонарь у автобусной остановки возле школы: вечером там совсем темно, "
         "а опора линии стоит рядом."),
]  # fmt: skip
KK_TEXTS = [
    Text("жалоба", ("Жарық жоқ", "Электр жарығы болмады"), ("Шағым: жарық жоқ", "Шағым"),
         "{d1} күні сағат 18:00-ден 23:30-ға дейін үйімізде электр жарығы болмады. Диспетчерлік "
         "қызмет телефон алмады. Тиісті шара қолдануды сұраймын."),
    Text("жалоба", ("Кернеудің ауытқуы", "Тоңазытқыш істен шықты"), ("Шағым: кернеу",),
         "Соңғы бір айда кернеу үш рет күрт көтеріліп, тоңазытқыш істен шықты. Диспетчерге екі рет "
         "қоңырау шалдық, бірақ бригада келмеді."),
    Text("жалоба", ("Көше жарығы",), ("Шағым: көше жарығы",),
         "Көшемізде екі аптадан бері көше жарығы жанбайды. Телефон арқылы хабарласқанымызбен, "
         "нәтиже болмады."),
    Text("жалоба", ("Қызметкердің дөрекілігі",), ("Шағым",),
         "Абоненттік бөлімнің қызметкері есептегіш көрсеткіштерін қабылдаудан бас тартты және "
         "дөрекі сөйледі. Шара қолдануды сұраймын."),
    Text("заявление", ("Есептегішті ауыстыру",), ("Өтініш: есептегіш", "Өтініш"),
         "Үйімдегі электр есептегіші істен шықты, оны ауыстыруды сұраймын."),
    Text("заявление", ("Техникалық шарттар",), ("Өтініш: техникалық шарттар",),
         "Тұрғын үйді электр желісіне қосуға техникалық шарттар беруді сұраймын. Қажетті қуат {kw} кВт."),
    Text("заявление", ("Дербес шот",), ("Өтініш",),
         "Үйдің иесі ауысуына байланысты дербес шотты менің атыма қайта ресімдеуді сұраймын."),
    Text("претензия", ("Шотты қайта есептеу",), ("Талап (претензия)", "Талап: шот"),
         "{month_kk} айына арналған шотта {kwh1} кВт·сағ есептелген, ал есептегіш бойынша нақты "
         "шығын {kwh2} кВт·сағ. Қайта есептеуді талап етемін."),
    Text("претензия", ("Залалды өтеу",), ("Талап: залалды өтеу",),
         "{d1} күнгі кернеудің күрт өзгеруі салдарынан теледидар мен кір жуғыш машина істен шықты. "
         "Келтірілген {sum} теңге залалды өтеуді талап етемін."),
    Text("отзыв", ("Алғыс",), ("Пікір",),
         "Апатты тез жойғаны үшін электр желілері бригадасына алғысымды білдіремін. Жұмысшылар "
         "қоңыраудан кейін бір сағатта келіп, бәрін ұқыпты істеді."),
    Text("отзыв", ("Сервис орталығы",), ("Пікір: қызмет көрсету",),
         "Сервис орталығындағы қызмет көрсету маған ұнады. Оператор есеп айырысу тәртібін толық "
         "түсіндірді."),
    Text("предложение", ("SMS хабарлама",), ("Ұсыныс", "Ұсыныс: SMS"),
         "Жоспарлы өшірулер туралы бір күн бұрын SMS арқылы хабарлауды ұсынамын."),
    Text("предложение", ("Төлем терминалы",), ("Ұсыныс",),
         "Сервис орталығында комиссиясыз төлем терминалын орнатуды және жұмыс уақытын кешкі сағат "
         "жетіге дейін ұзартуды ұсынамын."),
]  # fmt: skip

RU_KIND_SENTENCES = {  # the first sentence names the kind when no title does
    "заявление": ["Прошу рассмотреть моё заявление.", "Обращаюсь к вам с заявлением.",
                  "Настоящим заявлением прошу о следующем."],
    "жалоба": ["Прошу рассмотреть мою жалобу.", "Обращаюсь к вам с жалобой.", "Хочу подать жалобу."],
    "претензия": ["Направляю вам претензию.", "Настоящим предъявляю претензию.",
                  "Обращаюсь к вам с претензией."],
    "отзыв": ["Хочу оставить отзыв о вашей работе.", "Прошу принять мой отзыв.", "Хочу оставить отзыв."],
    "предложение": ["Хочу внести предложение.", "У меня есть предложение.",
                    "Прошу рассмотреть моё предложение."],
}  # fmt: skip
RU_KIND_INSTR = {
    "заявление": "заявлением",
    "жалоба": "жалобой",
    "претензия": "претензией",
    "отзыв": "отзывом",
    "предложение": "предложением",
}
RU_KIND_ACC = {
    "заявление": "заявление",
    "жалоба": "жалобу",
    "претензия": "претензию",
    "отзыв": "отзыв",
    "предложение": "предложение",
}
RU_TITLES = {
    "заявление": ["ЗАЯВЛЕНИЕ", "ЗАЯВЛЕНИЕ", "Заявление", "Заявление", "заявление"],
    "жалоба": ["ЖАЛОБА", "Жалоба"],
    "претензия": ["ПРЕТЕНЗИЯ", "Претензия", "Досудебная претензия"],
    "отзыв": ["ОТЗЫВ", "Отзыв"],
    "предложение": ["ПРЕДЛОЖЕНИЕ", "Предложение"],
}
KK_KIND_SENTENCES = {
    "заявление": ["Сізге өтінішпен жүгінемін.", "Өтінішімді қарауыңызды сұраймын."],
    "жалоба": ["Сізге шағыммен жүгінемін.", "Шағымымды қарауыңызды сұраймын."],
    "претензия": ["Сізге талаппен жүгінемін.", "Осы талапты қарауыңызды сұраймын."],
    "отзыв": ["Пікірімді білдіргім келеді.", "Жұмыстарыңыз туралы пікір қалдырғым келеді."],
    "предложение": ["Ұсыныс енгізгім келеді.", "Ұсынысымды қарауыңызды сұраймын."],
}
KK_TITLES = {
    "заявление": ["ӨТІНІШ", "Өтініш"],
    "жалоба": ["ШАҒЫМ", "Шағым"],
    "претензия": ["ТАЛАП", "Талап"],
    "отзыв": ["ПІКІР", "Пікір"],
    "предложение": ["ҰСЫНЫС", "Ұсыныс"],
}
PROBLEM_KINDS = ("жалоба", "претензия", "заявление")
RU_FILLERS = {  # paragraphs for long letters, in the order a writer puts them: no kind's word in them
    "problem": [
        "Проживаю по указанному адресу с {since} года. Оплату за потреблённую электроэнергию "
        "произвожу своевременно, задолженности не имею, квитанции сохраняю.",
        "Ранее я уже обращал{sya} по данному вопросу по телефону диспетчерской службы, однако никаких "
        "мер принято не было, а сроки устранения мне не сообщили.",
        "В нашем доме проживают пожилые люди и маленькие дети, поэтому надёжное электроснабжение для "
        "нас особенно важно, тем более в зимнее время.",
        "Соседи по улице столкнулись с той же проблемой и готовы подтвердить изложенные факты.",
        "Все необходимые документы готов{a} предоставить по первому требованию. В дневное время я "
        "нахожусь на работе, поэтому о визите специалиста прошу сообщить заранее по телефону.",
        "Надеюсь на понимание и скорейшее решение вопроса.",
    ],
    "отзыв": [
        "Проживаю по указанному адресу с {since} года и пользуюсь услугами вашей компании много лет.",
        "Раньше с подобными вопросами приходилось ждать неделями, поэтому такая работа особенно заметна.",
        "Хотелось бы, чтобы такое отношение к потребителям было во всех подразделениях компании.",
        "Прошу довести мои слова до сведения работников и их руководства.",
    ],
    "предложение": [
        "Проживаю по указанному адресу с {since} года и пользуюсь услугами вашей компании много лет.",
        "Думаю, что это было бы удобно многим жителям района, особенно пожилым людям и тем, кто "
        "работает днём.",
        "Подобный порядок уже действует в других городах и, насколько мне известно, хорошо себя показал.",
        "Готов{a} обсудить это подробнее, если потребуется.",
    ],
}
RU_CLOSERS = [
    "Ответ прошу направить по указанному адресу в установленный законом срок.",
    "О принятом решении прошу сообщить письменно.",
    "Прошу дать письменный ответ.",
    "Заранее благодарю.",
]
KK_FILLERS = {
    "problem": [
        "Осы мекенжайда {since} жылдан бері тұрамын. Электр энергиясы үшін төлемді уақытылы төлеймін, "
        "қарызым жоқ.",
        "Бұл мәселе бойынша бұрын диспетчерлік қызметке телефон арқылы хабарласқан едім, бірақ "
        "ешқандай шара қолданылмады.",
        "Үйде қарт адамдар мен кішкентай балалар тұрады, сондықтан электрмен тұрақты жабдықтау біз "
        "үшін өте маңызды.",
    ],
    "отзыв": [
        "Осы мекенжайда {since} жылдан бері тұрамын.",
        "Осындай қызмет барлық бөлімшелерде болса екен.",
    ],
    "предложение": [
        "Осы мекенжайда {since} жылдан бері тұрамын.",
        "Бұл көптеген тұрғындарға, әсіресе қарт адамдарға ыңғайлы болар еді деп ойлаймын.",
    ],
}
KK_CLOSERS = ["Жауабын жазбаша түрде жіберуіңізді сұраймын.", "Мәселені тез арада шешуіңізді сұраймын."]


def closers(kk: bool, has_address: bool) -> list[str]:
    if kk:
        return KK_CLOSERS
    return [c for c in RU_CLOSERS if has_address or "адрес" not in c]


KK_MONTHS = [
    "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
    "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
]  # fmt: skip
RU_MONTHS_NOM = [
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
]  # fmt: skip


KIND_WEIGHTS = {"жалоба": 3, "заявление": 3, "претензия": 2, "предложение": 1.5, "отзыв": 1.5}


def pick_text(rng: random.Random, kk: bool) -> Text:
    kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
    return rng.choice([t for t in (KK_TEXTS if kk else RU_TEXTS) if t.kind == kind])


def fill(template: str, p: Person, written: dt.date, rng: random.Random) -> str:
    d1 = written - dt.timedelta(days=rng.randint(1, 20))
    d2 = written - dt.timedelta(days=rng.randint(25, 70))
    month = (written.replace(day=1) - dt.timedelta(days=1)).month
    kwh2 = rng.randint(150, 600)
    h1 = rng.randint(6, 19)
    return template.format(
        d1=f"{d1:%d.%m.%Y}",
        d2=f"{d2:%d.%m.%Y}",
        t1=f"{h1:02d}:00",
        t2=f"{min(23, h1 + rng.randint(2, 6)):02d}:{rng.choice(['00', '30'])}",
        month=RU_MONTHS_NOM[month - 1],
        month_kk=KK_MONTHS[month - 1].capitalize(),
        kwh1=f"{kwh2 * rng.randint(3, 5):,}".replace(",", " "),
        kwh2=kwh2,
        sum=f"{rng.randint(15, 420) * 500:,}".replace(",", " "),
        kw=rng.choice([5, 10, 15, 20, 25]),
        year=written.year - 1,
        acct=f"{rng.randint(10**8, 10**9 - 1)}",
        since=rng.randint(1975, 2019),
        a="а" if p.female else "",
        sya="ась" if p.female else "ся",
    )


# --- senders -----------------------------------------------------------------

CHIEFS = {  # address -> (unit, channel, unit in the genitive, the chief's name, office phone)
    "ayyrtau-res@sevkaz.example": ("Айыртауский РЭС", "res", "Айыртауского РЭС", "Сейтказин А.Б.", "8 (71533) 2-14-05"),
    "tayynsha-res@sevkaz.example": ("Тайыншинский РЭС", "res", "Тайыншинского РЭС", "Кравец В.Н.", "8 (71536) 2-31-17"),
    "esil-res@sevkaz.example": ("Есильский РЭС", "res", "Есильского РЭС", "Мукашев Е.Т.", "8 (71543) 2-20-44"),
    "kyzylzhar-res@sevkaz.example": ("Кызылжарский РЭС", "res", "Кызылжарского РЭС", "Ломов С.В.", "8 (71538) 2-11-90"),
    "mamlyut-ruse@sevkaz.example": ("Мамлютский РУСЭ", "res", "Мамлютского РУСЭ", "Тулегенов Д.К.", "8 (71541) 2-08-63"),
    "sc2@sevkaz.example": ("Сервис-центр № 2", "service_center", "Сервис-центра № 2", "Бойко Н.А.", "8 (7152) 46-12-34"),
}  # fmt: skip
CHANCELLERY = cg.CHANCELLERY


# --- drawing -----------------------------------------------------------------


class FreeSheet(cg.Sheet):
    """corpusgen's page, in any FREE_FONTS family, bold for titles, with a line spacing."""

    def __init__(self, dpi: int, family: str, size_pt: float, spacing: float, fonts: dict):
        super().__init__(dpi, family, size_pt)
        self.spacing = spacing
        self._fonts = fonts

    def font(self, size_pt=None, italic=False, bold=False):
        size = size_pt or self.size
        key = (size, bold)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(
                free_font_path(self.family, bold), max(6, int(round(size * self.dpi / 72)))
            )
        return self._fonts[key]

    def line_h(self, size_pt=None) -> int:
        return int(round((size_pt or self.size) * self.spacing * self.dpi / 72))


class Doc:
    """A word processor's flow: lines and paragraphs down the page, a new page when full."""

    def __init__(self, rng: random.Random, dpi: int, family: str, size: float, spacing: float):
        self.rng, self.dpi, self.family, self.size, self.spacing = rng, dpi, family, size, spacing
        self.top = rng.uniform(0.6, 1.0)
        self.left = rng.uniform(0.8, 1.25)
        self.right = rng.uniform(0.45, 0.8)
        self.bottom = rng.uniform(0.7, 0.9)
        self.ink = rng.randint(10, 45)
        self.page_numbers = rng.random() < 0.6
        self.fonts: dict = {}
        self.pages: list[FreeSheet] = []
        self.lines: list[str] = []  # what was printed, line by line
        self.y = 0
        self.new_page()

    @property
    def s(self) -> FreeSheet:
        return self.pages[-1]

    @property
    def right_x(self) -> float:
        return A4[0] - self.right

    def new_page(self) -> None:
        self.pages.append(FreeSheet(self.dpi, self.family, self.size, self.spacing, self.fonts))
        self.y = self.s.px(self.top)
        if len(self.pages) > 1 and self.page_numbers:
            f = self.s.font(self.size - 2)
            n = str(len(self.pages))
            self.s.draw.text(
                (self.s.px(A4[0] / 2) - f.getlength(n) / 2, self.s.px(0.4)), n, font=f, fill=self.ink
            )

    def need(self, h: int) -> None:
        if self.y + h > self.s.px(A4[1] - self.bottom):
            self.new_page()

    def gap(self, k: float) -> None:
        self.y += int(self.s.line_h() * k)

    def line(self, text: str, *, x: float | None = None, align: str = "left", size=None, bold=False) -> tuple:
        h = self.s.line_h(size)
        self.need(h)
        f = self.s.font(size, bold=bold)
        w = f.getlength(text)
        if align == "center":
            px = (self.s.px(self.left) + self.s.px(self.right_x)) / 2 - w / 2
        elif align == "right":
            px = self.s.px(self.right_x) - w
        else:
            px = self.s.px(self.left if x is None else x)
        self.s.draw.text((px, self.y), text, font=f, fill=self.ink)
        self.lines.append(text)
        y = self.y
        self.y += h
        return px, y, w

    def para(
        self,
        text: str,
        *,
        x: float | None = None,
        width: float | None = None,
        indent: float = 0.0,
        justify: bool = False,
        align: str = "left",
        size=None,
    ) -> None:
        x = self.left if x is None else x
        width = (self.right_x - x) if width is None else width
        f = self.s.font(size)
        limit = self.s.px(width)
        ind = self.s.px(indent)
        rows: list[list[str]] = []
        cur: list[str] = []
        for word in text.split():
            off = ind if not rows else 0
            if cur and f.getlength(" ".join([*cur, word])) + off > limit:
                rows.append(cur)
                cur = [word]
            else:
                cur.append(word)
        if cur:
            rows.append(cur)
        for i, words in enumerate(rows):
            h = self.s.line_h(size)
            self.need(h)
            f = self.s.font(size)
            off = ind if i == 0 else 0
            s = " ".join(words)
            x0 = self.s.px(x) + off
            if align == "right":
                self.s.draw.text((self.s.px(x) + limit - f.getlength(s), self.y), s, font=f, fill=self.ink)
            elif justify and i < len(rows) - 1 and len(words) > 1:
                total = sum(f.getlength(w) for w in words)
                gap = (limit - off - total) / (len(words) - 1)
                xx = float(x0)
                for w in words:
                    self.s.draw.text((xx, self.y), w, font=f, fill=self.ink)
                    xx += f.getlength(w) + gap
            else:
                self.s.draw.text((x0, self.y), s, font=f, fill=self.ink)
            self.lines.append(s)
            self.y += h

    def scribble(self, x: float, y: float, w: float) -> None:
        """A signature by pen along the line from x to x + w at baseline y: a few loops."""
        rng, d = self.rng, self.s.draw
        h = self.s.line_h() * rng.uniform(0.7, 1.1)
        k, phase, lean = rng.uniform(2.5, 5.0), rng.uniform(0, 6.28), rng.uniform(0.03, 0.08)
        x0, span = x + rng.uniform(0, w * 0.15), w * rng.uniform(0.6, 0.95)
        pts = []
        for i in range(81):
            t = i / 80
            ang = 6.283 * k * t
            px = x0 + span * t + lean * w * math.sin(ang)
            py = y - h * (0.35 + 0.35 * math.sin(ang + phase)) * (1 - 0.5 * t)
            pts.append((px, py))
        d.line(pts, fill=rng.randint(30, 80), width=max(2, self.dpi // 110), joint="curve")


def ru_header_lines(
    p: Person, unit_gen: str | None, rng: random.Random, hard: set[str]
) -> tuple[list[str], list[str]]:
    """The header block: the addressee's lines and the writer's (each may wrap)."""
    to = rng.choice(
        [
            ["Генеральному директору", "АО «СЕВКАЗЭНЕРГО»"],
            ["Генеральному директору", "АО «СЕВКАЗЭНЕРГО»"],
            ["Генеральному директору АО «СЕВКАЗЭНЕРГО»"],
            ["Директору", "ТОО «Севказэнергосбыт»"],
            ["В АО «СЕВКАЗЭНЕРГО»"],
            ["В ТОО «Севказэнергосбыт»"],
            [f"Начальнику {unit_gen}"] if unit_gen else ["Генеральному директору", "АО «СЕВКАЗЭНЕРГО»"],
        ]
    )
    parts: list[str] = []
    nominative = rng.random() < 0.15
    name = p.nominative if nominative else p.genitive
    who = rng.choice(["от ", "от ", "от гр. ", "от потребителя ", "от абонента "])
    if nominative and rng.random() < 0.4:
        who = rng.choice(["Заявитель: ", "Ф.И.О.: ", "от "])
    parts.append(who + name)
    ending = "ей" if p.female else "его"
    if p.address:
        label = rng.choice(
            [
                f"проживающ{ending} по адресу:",
                f"проживающ{ending} по адресу:",
                f"зарегистрированн{'ой' if p.female else 'ого'} по адресу:",
                "адрес:",
                "Адрес:",
                "",
            ]
        )
        if nominative and label.startswith(("прож", "зарег")):
            label = "адрес:"
        how = rng.random()
        addr = p.address
        if how < 0.35 and ", " in addr:  # the address split over two lines at a comma
            pieces = addr.split(", ")
            k = rng.randint(1, len(pieces) - 1)
            first, second = ", ".join(pieces[:k]) + ",", ", ".join(pieces[k:])
            if label:
                parts.append(f"{label} {first}")
            else:
                parts.append(first)
            parts.append(second)
        elif how < 0.55 and label:  # the label on its own line
            parts.append(label)
            parts.append(addr)
        else:
            parts.append(f"{label} {addr}".strip())
    if p.phone and "no_phone" not in hard:
        lab = rng.choice(["тел.", "тел.:", "Тел.:", "моб.", "моб. тел.:", "контактный телефон:", "сот."])
        parts.append(f"{lab} {phone_printed(p.phone, rng.randrange(9))}")
    if p.email and p.email_in_letter:
        parts.append(f"{rng.choice(['эл. почта:', 'e-mail:', 'E-mail:'])} {p.email}")
    return to, parts


def kk_header_lines(p: Person, rng: random.Random, hard: set[str]) -> tuple[list[str], list[str]]:
    to = rng.choice(
        [
            ["«СЕВКАЗЭНЕРГО» АҚ", "Бас директорына"],
            ["«СЕВКАЗЭНЕРГО» АҚ Бас директорына"],
            ["«Севказэнергосбыт» ЖШС", "директорына"],
        ]
    )
    parts: list[str] = []
    style = rng.randrange(3)
    if style == 0 and p.address:
        parts.append(f"{p.address} мекенжайы бойынша тұратын {p.ablative}")
    elif style == 1:
        parts.append(p.ablative)
        if p.address:
            parts.append(f"{rng.choice(['Мекенжайы:', 'Мекенжайы:', 'Мекенжай:'])} {p.address}")
    else:
        parts.append(f"Аты-жөні: {p.nominative}")
        if p.address:
            parts.append(f"Мекенжайы: {p.address}")
    if p.phone and "no_phone" not in hard:
        lab = rng.choice(["Тел.:", "тел.", "Ұялы тел.:", "Байланыс телефоны:"])
        parts.append(f"{lab} {phone_printed(p.phone, rng.randrange(9))}")
    return to, parts


def letter_body(
    p: Person, t: Text, written: dt.date, rng: random.Random, *, titled: bool, long: bool
) -> list[str]:
    kk = p.lang == "kk"
    kinds = KK_KIND_SENTENCES if kk else RU_KIND_SENTENCES
    text = fill(t.body, p, written, rng)
    paras: list[str] = []
    if not titled:
        paras.append(rng.choice(kinds[t.kind]) + " " + text)
    elif rng.random() < 0.2 or t.mixed:
        paras.append(text + " " + rng.choice(kinds[t.kind]))
    else:
        paras.append(text)
    if long:
        pool = (KK_FILLERS if kk else RU_FILLERS)["problem" if t.kind in PROBLEM_KINDS else t.kind]
        for f in pool:
            paras.append(fill(f, p, written, rng))
        # a second text of the same kind, when there is one
        more = [x for x in (KK_TEXTS if kk else RU_TEXTS) if x.kind == t.kind and x is not t and not x.mixed]
        if more:
            paras.insert(1, fill(rng.choice(more).body, p, written, rng))
    if rng.random() < 0.6:
        paras.append(rng.choice(closers(kk, bool(p.address))))
    if t.kind == "претензия" and not kk and rng.random() < 0.5:
        paras.append(f"В случае отказа буду вынужден{'а' if p.female else ''} обратиться в суд.")
    return paras


def date_line(d: dt.date, kk: bool, rng: random.Random) -> str:
    if kk:
        return rng.choice(
            [f"{d:%d.%m.%Y} ж.", f"{d.year} жылғы {d.day} {KK_MONTHS[d.month - 1]}", f"{d:%d.%m.%Y}"]
        )
    m = cg.MONTHS[d.month - 1]
    return rng.choice(
        [
            f"{d:%d.%m.%Y}",
            f"{d:%d.%m.%Y} г.",
            f"«{d.day:02d}» {m} {d.year} г.",
            f"{d.day} {m} {d.year} года",
            f"{d:%d.%m.%Y}г.",
        ]
    )


def render_free_letter(
    p: Person,
    t: Text,
    written: dt.date,
    rng: random.Random,
    *,
    unit_gen: str | None,
    hard: set[str],
    dpi: int,
    family: str,
    long: bool,
) -> tuple[list[Image.Image], list[str], dict]:
    """A typed letter: header, title, text, date and signature; the pages and the printed lines."""
    kk = p.lang == "kk"
    size = rng.choice([13, 14] if long else [11, 12, 12, 13, 14, 14])
    if family in ("Liberation Mono", "PT Mono", "DejaVu Sans Mono"):
        size = min(size, 12)
    spacing = 1.5 if long else rng.choice([1.15, 1.15, 1.3, 1.5])
    doc = Doc(rng, dpi, family, size, spacing)
    layout = rng.choices(["block", "left", "flush"], [6, 2, 2])[0]
    info = {"layout": layout, "size": size, "spacing": spacing}
    to, rest = kk_header_lines(p, rng, hard) if kk else ru_header_lines(p, unit_gen, rng, hard)
    flowing = rng.random() < 0.3  # the lines after the addressee run on as one paragraph
    x0 = rng.uniform(3.5, 4.6) if layout == "block" else doc.left
    width = doc.right_x - x0 if layout == "block" else rng.uniform(3.2, 3.9)
    if layout == "flush":
        x0 = doc.right_x - width
    align = "right" if layout == "flush" else "left"
    for s in to:
        doc.para(s, x=x0, width=width, align=align)
    if flowing and not kk:
        joined = rest[0]
        for s in rest[1:]:
            if s.startswith(("Адрес", "Тел")):  # a label inside the sentence
                s = s[0].lower() + s[1:]
            joined += (" " if joined.endswith((":", ",")) else ", ") + s
        doc.para(joined, x=x0, width=width, align=align)
        info["header"] = "flowing"
    else:
        for s in rest:
            doc.para(s, x=x0, width=width, align=align)
    doc.gap(rng.choice([1.0, 1.5, 2.0, 3.0]))
    # title
    titled = rng.random() < 0.75
    if titled:
        title = rng.choice((KK_TITLES if kk else RU_TITLES)[t.kind])
        if not kk and t.title_tail and title != "Досудебная претензия" and rng.random() < 0.4:
            title = f"{title} {t.title_tail}"
        if rng.random() < 0.08 and " " not in title:
            title = " ".join(title.upper())  # Ж А Л О Б А
        talign = rng.choices(["center", "left", "indent"], [7, 2, 1])[0]
        bold = rng.random() < 0.45
        tsize = size + rng.choice([0, 1, 2, 2])
        if talign == "indent":
            doc.line(title, x=doc.left + 0.5, size=tsize, bold=bold)
        else:
            doc.line(title, align=talign, size=tsize, bold=bold)
        doc.gap(rng.choice([0.5, 1.0]))
        info["title"] = title
    elif not kk and rng.random() < 0.25:  # a generic title: the kind is named by the first sentence
        doc.line(rng.choice(["ОБРАЩЕНИЕ", "Обращение"]), align="center", size=size + 1)
        doc.gap(0.5)
        info["title"] = "Обращение"
    general = info.get("title") == "Обращение"
    paras = letter_body(p, t, written, rng, titled=titled and not general, long=long)
    indent = rng.choice([0.0, 0.4, 0.5, 0.5])
    justify = rng.random() < 0.5
    pgap = rng.choice([0.0, 0.0, 0.4])
    for para in paras:
        doc.para(para, indent=indent, justify=justify)
        doc.gap(pgap)
    if not kk and rng.random() < 0.2:
        doc.gap(0.5)
        doc.para(rng.choice(["Приложение: копия квитанции на 1 л.", "Приложение: фото на 2 л."]))
    doc.gap(rng.choice([1.0, 1.5, 2.0]))
    if long and len(doc.pages) == 1:  # a long letter signed on its second page
        doc.new_page()
    # date and signature
    d = date_line(written, kk, rng)
    sig_name = p.signed(0 if rng.random() < 0.8 else 1)
    sig_style = rng.randrange(5)
    doc.need(doc.s.line_h() * 3)
    if kk:
        sig = rng.choice([f"Қолы: ____________ {sig_name}", f"____________ /{sig_name}/", f"/{sig_name}/"])
    else:
        sig = [
            f"____________ /{sig_name}/",
            f"/{sig_name}/",
            f"подпись ____________ {sig_name}",
            f"____________ {sig_name}",
            f"С уважением, {sig_name}",
        ][sig_style]
    fsig = doc.s.font()
    if rng.random() < 0.6:  # the date on the left, the signature on the right of one line
        y = doc.y
        doc.s.draw.text((doc.s.px(doc.left), y), d, font=fsig, fill=doc.ink)
        sx = doc.s.px(doc.right_x) - fsig.getlength(sig)
        doc.s.draw.text((sx, y), sig, font=fsig, fill=doc.ink)
        doc.lines.append(f"{d} {sig}")
        doc.y += doc.s.line_h()
    else:
        sx, y, _ = doc.line(sig, x=rng.choice([doc.left, 4.2]))
        doc.line(d, x=doc.left)
    if "_" in sig and rng.random() < 0.75:  # signed by pen over the line
        a = sig.index("_")
        b = sig.rindex("_") + 1
        ux = sx + fsig.getlength(sig[:a])
        doc.scribble(ux, y + fsig.getmetrics()[0], fsig.getlength(sig[a:b]))
    info["pages"] = len(doc.pages)
    info["titled"] = titled
    return [s.img for s in doc.pages], doc.lines, info


# --- e-mails -------------------------------------------------------------------


def _phone_line(p: Person, rng: random.Random, kk: bool) -> str:
    ph = phone_printed(p.phone or "", rng.randrange(9))
    if kk:
        return rng.choice(["Тел.: ", "тел. ", "Байланыс телефоны: ", "Ұялы тел.: "]) + ph
    return rng.choice(["Контактный телефон: ", "тел. ", "Тел.: ", "моб. ", "Мой телефон: ", ""]) + ph


def email_body(
    p: Person, t: Text, written: dt.date, rng: random.Random, hard: set[str], subject_names_kind: bool
) -> tuple[str, dict]:
    kk = p.lang == "kk"
    info: dict = {}
    text = fill(t.body, p, written, rng)
    kinds = KK_KIND_SENTENCES if kk else RU_KIND_SENTENCES
    must_name = not subject_names_kind or t.mixed
    phone_ok = p.phone and "no_phone" not in hard
    lines: list[str] = []
    if kk:
        greet = rng.choice(
            ["Сәлеметсіз бе!", "Сәлеметсіз бе.", "Қайырлы күн!", "Құрметті «СЕВКАЗЭНЕРГО» АҚ қызметкерлері!"]
        )
    else:
        greet = rng.choice(
            ["Здравствуйте.", "Здравствуйте!", "Добрый день!", "Добрый день.", "Добрый вечер.",
             "Уважаемые сотрудники АО «СЕВКАЗЭНЕРГО»!", ""]
        )  # fmt: skip
    style = rng.choices(["ya", "sig", "letter"], [4, 5, 1 if not kk else 0])[0]
    if "sig_only" in hard or "name_order" in hard:
        style = "sig"
    info["style"] = style
    if style == "letter":  # a letter typed into the body
        head = ["Генеральному директору", "АО «СЕВКАЗЭНЕРГО»", f"от {p.genitive}"]
        if p.address:
            head.append(f"{'проживающей' if p.female else 'проживающего'} по адресу: {p.address}")
        if phone_ok:
            head.append(f"тел. {phone_printed(p.phone or '', rng.randrange(9))}")
        title = rng.choice(RU_TITLES[t.kind])
        body = text if not t.mixed else text + " " + rng.choice(kinds[t.kind])
        lines = [*head, "", title, "", body, "", f"{date_line(written, False, rng)}    /{p.signed(0)}/"]
        return "\n".join(lines) + "\n", info
    if greet:
        lines += [greet, ""]
    addr_given = False
    if style == "ya":
        kind_s = rng.choice(kinds[t.kind])
        if kk:
            intro = f"Мен, {p.nominative}"
            if p.address and rng.random() < 0.7:
                para = f"{intro}, {p.address} мекенжайы бойынша тұрамын. {kind_s} {text}"
                addr_given = True
            else:  # Мен, Қасымов Дәурен Ғабитұлы, сізге шағыммен жүгінемін.
                para = f"{intro}, {kind_s[0].lower()}{kind_s[1:]} {text}"
        else:
            living = "проживающая" if p.female else "проживающий"
            intro = f"Я, {p.nominative}"
            if p.address and rng.random() < 0.75:
                intro += f", {living} по адресу: {p.address},"
                addr_given = True
            else:
                intro += ","
            if rng.random() < 0.6:
                para = f"{intro} обращаюсь к вам с {RU_KIND_INSTR[t.kind]}. {text}"
            else:
                para = f"{intro} обращаюсь к вам. {kind_s} {text}"
        lines += [para]
    else:
        first = text
        if must_name or rng.random() < 0.3:
            first = (
                rng.choice(kinds[t.kind]) + " " + text
                if rng.random() < 0.6
                else text + " " + rng.choice(kinds[t.kind])
            )
        lines += [first]
    if not kk and rng.random() < 0.3:
        lines += ["", rng.choice(closers(kk, bool(p.address)))]
    # signature
    lines.append("")
    sign = rng.choice(["Құрметпен,", "Құрметпен,", "Рақмет.", "Алдын ала рақмет."] if kk else
                      ["С уважением,", "С уважением,", "С уважением", "Спасибо.", "Заранее спасибо.", "С уважением и надеждой на ответ,"])  # fmt: skip
    if style == "ya":
        signer = rng.choice([p.nominative, p.signed(0), f"{p.first} {p.last}", ""])
    elif "name_order" in hard and p.patr:
        signer = f"{p.first} {p.patr} {p.last}"
    else:
        signer = p.nominative
    block = [sign] + ([signer] if signer else [])
    if not signer and style == "ya":
        block = [sign.rstrip(",")] if rng.random() < 0.5 else []
    if p.address and not addr_given:
        lab = rng.choice(
            ["Мекенжайы: ", "Мекенжайым: ", ""]
            if kk
            else ["Мой адрес: ", "Адрес: ", "Проживаю по адресу: ", ""]
        )
        block.append(lab + p.address)
    if phone_ok:
        block.append(_phone_line(p, rng, kk))
    lines += block
    if rng.random() < 0.15:
        lines += [
            "",
            rng.choice(
                ["Отправлено с iPhone", "Отправлено из мобильной Почты Mail.ru", "Sent from my Android"]
            ),
        ]
    return "\n".join(lines).rstrip("\n") + "\n", info


def to_html(text: str, rng: random.Random, charset: str) -> str:
    style = rng.randrange(3)
    esc = [html.escape(line, quote=False) for line in text.rstrip("\n").split("\n")]
    if style == 0:
        inner = "".join(f"<div>{s if s else '&nbsp;'}</div>\n" for s in esc)
    elif style == 1:
        paras = "\n".join(esc).split("\n\n")
        inner = "".join("<p>" + p.replace("\n", "<br>\n") + "</p>\n" for p in paras)
    else:
        inner = "<br>\n".join(esc) + "<br>\n"
    font = rng.choice(
        ["", ' style="font-family: Arial, sans-serif; font-size: 14px;"', ' style="font-size: 12pt"']
    )
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>'
        f"<body><div{font}>\n{inner}</div></body></html>\n"
    )


# --- plan and build ------------------------------------------------------------

HARD = ["no_phone", "no_address", "no_patronymic", "sig_only", "name_order", "chief_signature"]
HARD_FOR = {  # which family each hard case fits
    "no_phone": ("letter", "email"),
    "no_address": ("email",),
    "no_patronymic": ("letter", "email"),
    "sig_only": ("email",),
    "name_order": ("email",),
    "chief_signature": ("letter",),
}


@dataclass
class FreeCase:
    family: str  # "letter" (a chief forwards a scan) | "email" (the consumer writes)
    lang: str  # "ru" | "kk"
    hard: set[str] = field(default_factory=set)
    scan_by_email: bool = False  # an e-mail with the consumer's own scanned letter attached


def plan_free(n: int, rng: random.Random) -> list[FreeCase]:
    fams = ["letter"] * ((n + 1) // 2) + ["email"] * (n // 2)
    rng.shuffle(fams)
    cases = [FreeCase(f, "ru") for f in fams]
    n_kk = max(1 if n >= 4 else 0, round(n * 0.2))
    for i in rng.sample(range(n), n_kk):
        cases[i].lang = "kk"
    n_hard = max(1 if n >= 6 else 0, round(n * 0.15))
    kinds = HARD[:]
    rng.shuffle(kinds)
    for k, i in enumerate(rng.sample(range(n), n_hard)):
        c = cases[i]
        fits = [h for h in kinds[k % len(kinds) :] + kinds if c.family in HARD_FOR[h]]
        c.hard.add(fits[0])
    for c in cases:
        if c.family == "email" and not c.hard and rng.random() < 0.15:
            c.scan_by_email = True
    return cases


def _attachment_names(
    last: str, kind: str, written: dt.datetime, idx: int, n: int, rng: random.Random, ext: str
) -> list[str]:
    shot = written + dt.timedelta(seconds=rng.randint(600, 7200))
    base = rng.choice(
        [
            f"scan_{written:%Y%m%d}_{idx:03d}",
            f"письмо {last}",
            f"Сканированный документ {rng.randint(1, 99)}",
            f"IMG_{shot:%Y%m%d_%H%M%S}" if ext == "jpg" else f"Документ {shot:%d.%m.%Y}",
            "обращение",
            f"doc{rng.randint(100, 99999):05d}",
            f"{kind} {last}",
            f"Scan{rng.randint(1, 120):04d}",
        ]
    )
    return [base if n == 1 else f"{base} стр{i + 1}" for i in range(n)]


def _multiply(a: Image.Image, b: Image.Image) -> Image.Image:
    return ImageChops.multiply(a, b)


def build_free(
    case: FreeCase, idx: int, rng: random.Random, base_day: dt.date, families: list[str]
) -> tuple[bytes, dict, dict]:
    """One message: the .eml bytes, its truth line and notes (what was printed, the layout)."""
    day = base_day + dt.timedelta(days=rng.randint(0, 60))
    tz = dt.timezone(dt.timedelta(hours=5 if rng.random() < 0.85 else 6))
    written = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tz)
    kk = case.lang == "kk"
    p = make_person(rng, case.lang)
    if "no_patronymic" in case.hard:
        p.patr = None
    if "no_address" in case.hard:
        p.address = None
    t = pick_text(rng, kk)
    notes: dict = {"family": case.family, "lang": case.lang, "hard": sorted(case.hard), "text_kind": t.kind}
    attachments: list[tuple[bytes, str, str, int]] = []  # data, content type, name, pages
    if case.family == "email":
        p.email = make_email(p, rng)
        p.email_in_letter = case.scan_by_email and not kk and rng.random() < 0.3
    elif not kk and rng.random() < 0.08:  # a letter that prints the writer's e-mail
        p.email = make_email(p, rng)
        p.email_in_letter = True
    if case.family == "letter" or case.scan_by_email:
        sender = rng.choice(list(CHIEFS)) if case.family == "letter" else p.email or ""
        unit_gen = CHIEFS[sender][2] if case.family == "letter" else None
        weights = [FREE_FONTS[f][2] for f in families]
        family = rng.choices(families, weights)[0]
        dpi = rng.choice([200, 240, 300, 300])
        long = rng.random() < 0.2
        imgs, printed, linfo = render_free_letter(
            p, t, written.date(), rng, unit_gen=unit_gen, hard=case.hard, dpi=dpi, family=family, long=long
        )
        fmt = rng.choice(["jpeg", "jpeg", "pdf", "pdf", "pdf", "png", "png1"])
        skew = rng.uniform(-1.5, 1.5)
        photo = fmt == "jpeg" and rng.random() < 0.3
        scans = []
        for k, im in enumerate(imgs):
            if photo:
                im = _multiply(im, _gradient(im.size, rng))
            scans.append(
                cg.scan(
                    im,
                    rng,
                    dpi=dpi,
                    skew=skew if k == 0 else rng.uniform(-1.0, 1.0),
                    blur=rng.choice([0, 0, 0.4, 0.7]),
                    noise=rng.choice([0, 3, 6, 8]),
                )
            )
        files = cg.encode(scans, fmt, dpi, rng, written.replace(tzinfo=None))
        names = _attachment_names(p.last, t.kind, written, idx, len(files), rng, files[0][2])
        for (data, ct, ext), nm in zip(files, names):
            attachments.append((data, ct, f"{nm}.{ext}", len(imgs) if ct == "application/pdf" else 1))
        notes.update(linfo, font=family, dpi=dpi, fmt=fmt + ("-photo" if photo else ""), printed=printed)
    if case.family == "letter":
        unit, channel, unit_gen, chief, office = CHIEFS[sender]
        cover, subject, from_name = _cover(p, t, unit, unit_gen, chief, office, written, rng, case)
        sent = written + dt.timedelta(minutes=rng.randint(20, 60 * 26))
        body, charset, html_only = cover, rng.choice(["utf-8", "utf-8", "windows-1251", "koi8-r"]), False
        alt = False
    else:
        channel, unit, sender = "email", None, p.email or ""
        sent = written
        if case.scan_by_email:
            kind_acc = RU_KIND_ACC[t.kind]
            body = rng.choice(
                [
                    f"Добрый день. Направляю {kind_acc}, скан во вложении.\n",
                    "Здравствуйте! Моё обращение во вложении.\n",
                    f"Здравствуйте.\nВо вложении {kind_acc}, прошу рассмотреть.\n{p.last} {p.initials}\n",
                ]
                if not kk
                else [
                    "Сәлеметсіз бе! Хатым қосымшада.\n",
                    f"Сәлеметсіз бе.\nХатымды қосымшада жолдаймын.\n{p.last} {p.initials}\n",
                ]
            )
            subject = rng.choice(
                [t.subjects[0], "Обращение", "скан", ""] if not kk else [t.subjects[0], "Хат"]
            )
            notes["style"] = "scan"
        else:
            subj_kind = rng.random() < 0.55
            subject = rng.choice(t.subjects if subj_kind else t.topics)
            if not subj_kind and rng.random() < 0.15:
                subject = rng.choice(["Обращение", "Вопрос", ""] if not kk else ["Сұрақ", ""])
            if subj_kind and rng.random() < 0.2:
                subject = (
                    f"{t.subjects[0].split(':')[0]}: {p.last}" if kk else f"{t.kind.capitalize()} потребителя"
                )
            body, binfo = email_body(p, t, written.date(), rng, case.hard, _names_kind(subject, t.kind))
            notes.update(binfo)
        subject = fill(subject, p, written.date(), rng) if "{" in subject else subject
        from_name = _consumer_display(p, rng, case)
        charset = "utf-8" if kk else rng.choice(["utf-8", "utf-8", "utf-8", "windows-1251", "koi8-r"])
        mode = rng.choices(["plain", "html", "alt"], [6, 2, 2])[0]
        html_only, alt = mode == "html", mode == "alt"
        notes["body"] = body
    try:
        body.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    domain = sender.split("@")[1]
    msgid = f"<{rng.getrandbits(40)}.{rng.randint(1000, 32000)}.{rng.getrandbits(60)}.free-{idx}@{domain}>"
    msg = EmailMessage()
    msg["Message-ID"] = msgid
    msg["Date"] = format_datetime(sent)
    if from_name and not from_name.isascii():  # as a mail client writes it: whole words encoded
        msg.set_raw("From", encoded_words(from_name, rng, charset, tail=f"<{sender}>"))
    else:
        msg["From"] = Address(display_name=from_name, addr_spec=sender) if from_name else sender
    msg["To"] = CHANCELLERY
    msg["Subject"] = subject
    cte = "8bit" if charset != "utf-8" and rng.random() < 0.4 else rng.choice(["base64", "quoted-printable"])
    if html_only:
        msg.set_content(to_html(body, rng, charset), subtype="html", charset=charset, cte=cte)
    else:
        msg.set_content(body, charset=charset, cte=cte)
        if alt:
            msg.add_alternative(to_html(body, rng, charset), subtype="html", charset=charset, cte=cte)
    for data, ct, name, _ in attachments:
        maintype, subtype = ct.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if msg.is_multipart():
        msg.set_boundary(f"=_{rng.getrandbits(64):016x}")
    raw = msg.as_bytes(policy=SMTP)
    consumer: dict = {
        "last_name": p.last,
        "first_name": p.first,
        "patronymic": p.patr,
        "address": p.address,
        "phone": None if "no_phone" in case.hard else phone_truth(p.phone),
    }
    if p.email:
        consumer["email"] = p.email
    truth = {
        "message_id": msgid,
        "channel": channel,
        "kind": t.kind,
        "group": 1,
        "consumer": consumer,
        "origin_unit": unit,
        "attachments": [{"filename": name, "pages": pages} for _, _, name, pages in attachments],
        "book_entry_at": None,
        "subject": subject,
    }
    notes["charset"] = charset
    notes["mime"] = "html" if html_only else "alt" if alt else "plain"
    return raw, truth, notes


def encoded_words(text: str, rng: random.Random, charset: str = "utf-8", tail: str = "") -> str:
    """RFC 2047 words split between words (the space kept inside), folded, in B or Q encoding.

    Python's own folding splits inside a word, which its parser then reads back
    with a space in the middle ("Р ЭС"); mail clients split between words. No
    line is longer than 78 characters, so that nothing refolds it.
    """
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    if charset != "utf-8" and rng.random() < 0.5:
        charset = "utf-8"
    want_q = rng.random() < 0.3

    def word(chunk: str, q: bool) -> str:
        data = chunk.encode(charset)
        if q:
            enc = "".join(
                chr(c) if chr(c).isascii() and chr(c).isalnum() else "_" if c == 32 else f"={c:02X}"
                for c in data
            )
            return f"=?{charset}?q?{enc}?="
        return f"=?{charset}?b?{base64.b64encode(data).decode()}?="

    words = text.split(" ")
    chunks = [w + " " for w in words[:-1]] + [words[-1]]
    q = want_q and all(len(word(c, True)) <= 66 for c in chunks)
    out, cur = [], ""
    for c in chunks:
        if cur and len(word(cur + c, q)) > 66:
            out.append(word(cur, q))
            cur = c
        else:
            cur += c
    out.append(word(cur, q))
    if tail:
        lead = len("From: ") if len(out) == 1 else 1  # what precedes the last word on its line
        if lead + len(out[-1]) + 1 + len(tail) > 78:
            out.append(tail)
        else:
            out[-1] += " " + tail
    return "\r\n ".join(out)


def _names_kind(subject: str, kind: str) -> bool:
    s = subject.lower()
    words = {
        "заявление": ("заявлен", "өтініш"),
        "жалоба": ("жалоб", "шағым"),
        "претензия": ("претенз", "талап"),
        "отзыв": ("отзыв", "пікір"),
        "предложение": ("предложен", "ұсыныс"),
    }[kind]
    return any(w in s for w in words)


def _gradient(size: tuple[int, int], rng: random.Random) -> Image.Image:
    w, h = size
    grad = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize((w, h))
    lo = rng.randint(175, 215)
    return grad.point(lambda v, lo=lo: lo + (255 - lo) * v // 255)


def _consumer_display(p: Person, rng: random.Random, case: FreeCase) -> str:
    if "sig_only" in case.hard:
        return rng.choice(
            [
                f"{translit(p.first)} {translit(p.last)}",
                f"{translit(p.last).upper()} {translit(p.first).upper()}",
            ]
        )
    how = rng.choices(["cyr", "lat", "none"], [5, 3, 2])[0]
    if how == "cyr":
        return rng.choice([f"{p.last} {p.first}", f"{p.first} {p.last}", p.first, p.nominative])
    if how == "lat":
        return rng.choice(
            [
                f"{translit(p.first)} {translit(p.last)}",
                f"{translit(p.last)} {translit(p.first)}",
                translit(p.first),
            ]
        )
    return ""


def _cover(
    p: Person,
    t: Text,
    unit: str,
    unit_gen: str,
    chief: str,
    office: str,
    written: dt.datetime,
    rng: random.Random,
    case: FreeCase,
) -> tuple[str, str, str]:
    """The chief's covering note, subject and From display name."""
    kk = p.lang == "kk"
    style = rng.randrange(6)
    sign = rng.choice(
        [f"Начальник {unit_gen}", f"Начальник {unit_gen}", f"С уважением,\nначальник {unit_gen}"]
    )
    if style == 0:
        body = f"Направляю письменное обращение потребителя, поступившее в {unit}.\n\n{sign}\n"
    elif style == 1:
        body = (
            f"Добрый день!\nПересылаю обращение потребителя, поступившее {written:%d.%m.%Y} в {unit}. "
            f"Оригинал передам нарочным.\n\n{sign}\n"
        )
    elif style == 2:
        body = f"Во вложении скан письма потребителя {p.surname_initials_genitive}, прошу зарегистрировать.\n\n{sign}\n"
    elif style == 3:
        body = f"Направляю {RU_KIND_ACC[t.kind]} потребителя, поступивш{'ее' if t.kind in ('заявление', 'предложение') else 'ую' if t.kind != 'отзыв' else 'ий'} в {unit}.\n\n{sign}\n"
    elif style == 4:
        body = "Прошу зарегистрировать (скан во вложении).\n\n" + sign + "\n"
    else:
        body = "Добрый день. Письмо потребителя во вложении.\n"
    if kk and rng.random() < 0.3:
        body = "Тұтынушының хатын жолдаймын. Түпнұсқасы бізде сақтаулы.\n\n" + f"{unit} бастығы\n"
    if "chief_signature" in case.hard or rng.random() < 0.1:  # the chief's own name and phone
        body = body.rstrip("\n") + f"\n{chief}\nтел. {office}\n"
    subject = rng.choice(
        [
            f"Письмо потребителя {p.last}",
            f"{unit}: обращение",
            "скан",
            f"Обращение {p.surname_initials_genitive}",
            "",
            f"{t.kind.capitalize()} потребителя",
            f"Скан от {written:%d.%m}",
            "Fwd: скан",
        ]
    )
    from_name = rng.choice([f"Начальник {unit_gen}", unit, chief.split()[0], ""])
    return body, subject, from_name


def generate_free(
    out_dir: str | Path,
    n: int = 40,
    seed: int = 101,
    base_day: dt.date = dt.date(2026, 3, 2),
    notes: list[dict] | None = None,
) -> list[dict]:
    """Write OUT_DIR/NNN-free.eml and truth.jsonl; each message's notes go to `notes` if given."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    families = free_families()
    cases = plan_free(n, random.Random(f"free-{seed}"))
    truths = []
    for i, case in enumerate(cases):
        raw, truth, note = build_free(case, i, random.Random(f"free-{seed}-{i}"), base_day, families)
        if notes is not None:
            notes.append(note)
        stem = f"{i:03d}-free"
        (out / f"{stem}.eml").write_bytes(raw)
        truth["file"] = f"{stem}.eml"
        truths.append(truth)
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for t in truths:
            fh.write(json.dumps(t, ensure_ascii=False) + "\n")
    return truths


def build_all(n: int, seed: int, base_day: dt.date = dt.date(2026, 3, 2)) -> list[tuple[bytes, dict, dict]]:
    """What generate_free writes, with each message's notes (for tests and for looking)."""
    families = free_families()
    cases = plan_free(n, random.Random(f"free-{seed}"))
    return [
        build_free(c, i, random.Random(f"free-{seed}-{i}"), base_day, families) for i, c in enumerate(cases)
    ]


def summary(notes: list[dict]) -> str:
    """What a generated set holds: families, languages, hard cases, fonts, formats, MIME."""
    from collections import Counter

    def count(key: str, pick=lambda n, k: n.get(k)) -> str:
        c = Counter(v for n in notes if (v := pick(n, key)) is not None)
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0]))))

    rows = [
        ("family", count("family")),
        ("language", count("lang")),
        ("kind", count("text_kind")),
        ("hard", count("hard", lambda n, k: ",".join(n[k]) or None)),
        ("scan font", count("font")),
        ("scan layout", count("layout")),
        ("scan format", count("fmt")),
        ("scan pages", count("pages")),
        ("e-mail style", count("style")),
        ("body MIME", count("mime")),
        ("charset", count("charset")),
    ]
    return "\n".join(f"  {a}: {b}" for a, b in rows)
