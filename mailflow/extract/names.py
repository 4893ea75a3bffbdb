"""Common personal names of the region, to doubt OCR's near misses.

A read name that is one letter away from a common name ("Акметова" next to
"Ахметова", "Элия" next to "Әлия") is far more often a misread than a rare
name, so its confidence is lowered and a clerk looks at it. These lists never
supply a value: a name that is in no list is read as it stands.
"""

from __future__ import annotations

from functools import lru_cache

from .text import levenshtein

MALE_FIRST = """
Абай Абылай Адиль Азамат Айбек Айдар Айдос Айдын Алан Алексей Алибек Алихан Алишер Алмас
Алмат Анатолий Андрей Антон Арман Арсен Арслан Артем Артём Артур Асет Асхат Аскар Аслан
Ахмет Багдат Бакыт Батыр Бауыржан Бекзат Болат Борис Вадим Валентин Валерий Василий
Виктор Виталий Владимир Владислав Вячеслав Габит Галым Ғалым Геннадий Георгий Глеб Григорий
Даниил Данияр Дастан Даулет Даурен Денис Дмитрий Еркин Ерлан Ермек Ерназар Ержан Есен Евгений
Егор Жандос Жанибек Жасулан Игорь Иван Ильдар Ильяс Илья Кайрат Канат Кирилл Константин Куаныш
Леонид Максим Марат Мади Мейрам Михаил Мурат Мухтар Нурбол Нурлан Нуржан Нұрлан Олег Олжас
Павел Петр Пётр Роман Руслан Рустем Сабит Самат Сергей Серик Серік Станислав Султан Тагир
Талгат Тимур Тимурлан Улан Фарид Федор Фёдор Эдуард Юрий Ян Ярослав Ербол Берик Бекжан Жомарт
Мирас Нурсултан Санжар Темирлан Бахыт Кенжебек Ахмед Александр Николай Аркадий Степан Семен
Семён Тарас Богдан Всеволод Лев Марк Матвей Никита Филипп Эльдар Эльдос Бекет Әли Әлібек
Дархан Ерасыл Адиль Әділ Амангельды Амангелді Сакен Сәкен Тулеген Төлеген Жумабек Жұмабек
""".split()

FEMALE_FIRST = """
Айгуль Айгүл Айжан Айнур Айсулу Айша Акмарал Алена Алёна Алина Алия Әлия Алла Альбина
Анара Анастасия Анель Анна Асель Асем Әсем Ботагоз Валентина Валерия Вера Виктория Галина
Гаухар Гүлнар Гульмира Гульнара Гульнар Гүлмира Дана Дарья Динара Диана Екатерина Елена
Елизавета Жазира Жанар Жанна Жансая Жулдыз Жұлдыз Зарина Зауре Зухра Ирина Камила Карина
Клара Ксения Лаура Лейла Лилия Любовь Людмила Ляззат Мадина Майра Маргарита Мария Марина
Меруерт Мөлдір Молдир Надежда Назерке Наталья Наталия Нина Нургуль Ольга Раиса Райхан
Салтанат Сауле Сәуле Светлана Сымбат Татьяна Томирис Ульяна Эльмира Юлия Яна Айдана Аружан
Балжан Гульжан Дильназ Индира Кристина Лариса Марьям Оксана Полина Роза Софья София Тамара
Умит Үміт Шолпан Шынар Эльвира Амина Асылым Бибигуль Гульсим Раушан Алтынай Арайлым
Әсел Самал Айман Гульназ Гүлназ Назгуль Назгүл Жибек Жібек Карлыгаш Қарлығаш Ляззат Ләззат Акерке
Ақерке
""".split()

SURNAMES = """
Омаров Кузнецов Иванов Нурланов Ахметов Касымов Петренко Шевченко Сергеев Бекмухамбетов
Жунусов Сатпаев Абдрахманов Тлеубаев Смирнов Волков Есенов Мусин Карпенко Дюсенбаев Ким
Белоусов Искаков Попов Байжанов Ковальчук Рахимжанов Григорьев Петров Соколов Михайлов
Новиков Федоров Фёдоров Морозов Васильев Павлов Семенов Семёнов Голубев Виноградов
Богданов Воробьев Воробьёв Лебедев Козлов Степанов Николаев Орлов Андреев Макаров Никитин
Захаров Зайцев Соловьев Соловьёв Борисов Яковлев Романов Тимофеев Алексеев Ткаченко Бондаренко
Коваленко Кравченко Олейник Мельник Ахметжанов Абдуллаев Алиев Ибраев Исмаилов Жумабаев
Сулейменов Садыков Оспанов Мухамедов Нурпеисов Байтурсынов Калиев Ермеков Токаев Нургалиев
Серикбаев Бекова Тулегенов Ержанов Аубакиров Кенжебаев Бектуров Абенов Амиров Ахмедов
Муканов Кусаинов Утепов Шакенов Жакупов Толеубаев Каримов Рахимов Сагындыков Байжумин
Досмухамбетов Абилов Смагулов Шарипов Нуржанов Кабдулов Исин Мамыров Тулеуов Жанибеков
Ильин Гусев Титов Кузьмин Баранов Куликов Киселев Киселёв Филиппов Медведев Ершов Фролов
Калинин Тарасов Белов Комаров Жуков Гаврилов Максимов Сидоров Данилов Поляков Осипов Клименко
Литвиненко Руденко Гончаренко Левченко Марченко Кириленко Савченко Юсупов Ахмедьянов Шульц
Миллер Вагнер Шмидт Гофман Цой Пак Ли Хан
""".split()


def _female(s: str) -> str | None:
    for a, b in (
        ("ский", "ская"),
        ("цкий", "цкая"),
        ("ов", "ова"),
        ("ев", "ева"),
        ("ёв", "ёва"),
        ("ин", "ина"),
        ("ын", "ына"),
    ):
        if s.endswith(a):
            return s[: -len(a)] + b
    return None


def _patronymics(name: str) -> tuple[str, ...]:
    n = name
    special = {
        "Илья": ("Ильич", "Ильинична"),
        "Никита": ("Никитич", "Никитична"),
        "Лев": ("Львович", "Львовна"),
        "Пётр": ("Петрович", "Петровна"),
        "Павел": ("Павлович", "Павловна"),
        "Петр": ("Петрович", "Петровна"),
    }
    if n in special:
        return special[n]
    if n.endswith("ий"):
        stem = n[:-2]
        return (stem + "ьевич", stem + "ьевна", stem + "иевич", stem + "иевна")
    if n.endswith("ей") or n.endswith("ай"):
        stem = n[:-1]
        return (stem + "евич", stem + "евна")
    if n.endswith("ь"):
        return (n[:-1] + "евич", n[:-1] + "евна")
    if n[-1] in "аяоеиыуэюё":
        return ()
    out = (n + "ович", n + "овна")
    return out + (n + "ұлы", n + "улы", n + "қызы", n + "кызы")


@lru_cache(maxsize=1)
def lexicon() -> dict[str, frozenset[str]]:
    first = set(MALE_FIRST) | set(FEMALE_FIRST)
    sur = set(SURNAMES)
    sur |= {f for f in (_female(s) for s in SURNAMES) if f}
    pat = {p for m in MALE_FIRST for p in _patronymics(m)}
    return {"first_name": frozenset(first), "last_name": frozenset(sur), "patronymic": frozenset(pat)}


def check(word: str, field: str) -> str:
    """'known', 'near' (one edit from a known name: likely misread) or 'unknown'.

    A name in Kazakh spelling is known when its Russian spelling is ("Ботагөз",
    "Гауһар", "Қайратқызы"); and a Kazakh letter where a known name has another
    letter is no misread of it ("Үсенов" is not "Есенов" read wrong: OCR does not
    make a Ү out of an Е), so that one edit does not make a word near.
    """
    names = lexicon()[field]
    if word in names or word.replace("е", "ё") in names or word.replace("ё", "е") in names:
        return "known"
    if any(c in _RUSSIAN_FOR for c in word) and not _russian_spellings(word).isdisjoint(names):
        return "known"
    w = word.replace("ё", "е")
    for n in names:
        if abs(len(n) - len(w)) <= 1 and levenshtein(n.replace("ё", "е"), w, 1) <= 1:
            if len(n) == len(w) and any(a != b and a in _RUSSIAN_FOR for a, b in zip(w, n)):
                continue
            return "near"
    return "unknown"


# Kazakh letters and the Russian ones OCR reads in their place
_RUSSIAN_FOR = {
    "Ә": "ЭА",
    "Ғ": "Г",
    "Қ": "К",
    "Ң": "Н",
    "Ө": "О",
    "Ұ": "У",
    "Ү": "У",
    "Һ": "Х",
    "І": "И",
    "ә": "эа",
    "ғ": "г",
    "қ": "к",
    "ң": "н",
    "ө": "о",
    "ұ": "у",
    "ү": "у",
    "һ": "х",
    "і": "и",
}


def _russian_spellings(word: str) -> frozenset[str]:
    """The word with its Kazakh letters as their Russian look-alikes ("Әлия": "Элия", "Алия")."""
    forms = [""]
    for c in word:
        forms = [f + r for f in forms for r in _RUSSIAN_FOR.get(c, c)]
    return frozenset(forms)


@lru_cache(maxsize=1)
def _russianised() -> frozenset[str]:
    """Every common name with Kazakh letters, as it reads with Russian look-alikes."""
    out: set[str] = set()
    for names in lexicon().values():
        for n in names:
            if any(c in _RUSSIAN_FOR for c in n):
                out.update(_russian_spellings(n))
    return frozenset(out)


def kazakh_lookalike(word: str) -> bool:
    """A common Kazakh name read with Russian look-alikes ("Элия" for "Әлия")."""
    return word in _russianised() and not any(word in names for names in lexicon().values())
