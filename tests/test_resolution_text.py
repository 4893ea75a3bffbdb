"""Resolution text as managers type it on a phone, read against the staff directory.

Every case asserts the exact people (by e-mail, in order), the exact deadline
and, where it matters, the instruction left over. A name the directory does
not have, or has twice, must give Unclear — never a guess.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailflow.resolution_text import Addressee, Unclear, Understood, parse_resolution, strip_quoted
from mailflow.rules import Person, Staff, load

TODAY = dt.date(2026, 3, 20)  # a Friday


def _p(name, email, roles, unit=None, aliases=()):
    return Person(name, email, frozenset(roles), unit, tuple(aliases))


STAFF = Staff(
    (
        _p("Начальник Айыртауского РЭС", "ayyrtau-res@x.example", ["res_chief"], "Айыртауский РЭС"),
        _p("Начальник Тайыншинского РЭС", "tayynsha-res@x.example", ["res_chief"], "Тайыншинский РЭС"),
        _p("Канцелярия ДП", "kanc@x.example", ["clerk"], "Канцелярия"),
        _p("Сайт: обратная связь", "noreply@x.example", ["website_form"], "Сайт"),
        _p("Жумабаев Ерлан Серикович", "director@x.example", ["director"], "Руководство", ["Жумабаев Е.С."]),
        _p("Ахметов Нурлан Каирбекович", "deputy@x.example", ["deputy_director"], "Руководство"),
        _p("Сулейменова Айгуль Маратовна", "pr@x.example", ["pr_specialist"]),
        _p("Петров Алексей Сергеевич", "petrov@x.example", ["unit_head"]),
        _p("Сидоренко Ольга Викторовна", "sidorenko@x.example", ["executor"]),
        _p("Иванов Сергей Петрович", "ivanov@x.example", ["executor"]),
        _p("Иванова Марина Александровна", "ivanova@x.example", ["executor"]),
        _p(
            "Кожахметов Бауыржан Ерланович",
            "kozhakhmetov@x.example",
            ["unit_head"],
            None,
            ["Бауыржан Ерланович"],
        ),
        _p("Нурланұлы Асхат", "askhat@x.example", ["executor"]),
        _p("Серікқызы Гүлнар", "gulnar@x.example", ["executor"]),
        _p("Вишневская Елена Игоревна", "vishnevskaya@x.example", ["executor"]),
        _p("Ким Денис Олегович", "kim@x.example", ["executor"]),
        _p(
            "ТОО «Юридическое агентство «Коргау»",
            "office@korgau.example",
            ["legal"],
            "Юридическое агентство «Коргау»",
            ["юристы"],
        ),
    )
)


def understood(text: str, today: dt.date = TODAY, staff: Staff = STAFF) -> Understood:
    r = parse_resolution(strip_quoted(text), staff, today=today)
    assert isinstance(r, Understood), r
    return r


def unclear(text: str, today: dt.date = TODAY) -> tuple[str, ...]:
    r = parse_resolution(strip_quoted(text), STAFF, today=today)
    assert isinstance(r, Unclear), r
    assert r.problems and all(isinstance(p, str) and p for p in r.problems)
    return r.problems


def who(r: Understood) -> list[str]:
    return [a.person.email.split("@")[0] for a in r.addressees]


# --- the two examples of the brief --------------------------------------------


def test_first_example():
    r = understood("Петрову А.С., Сидоренко — рассмотреть, подготовить ответ. Срок до 15.04.2026")
    assert who(r) == ["petrov", "sidorenko"]
    assert [a.as_written for a in r.addressees] == ["Петрову А.С.", "Сидоренко"]
    assert r.due == dt.date(2026, 4, 15)
    assert r.due_text == "Срок до 15.04.2026"
    assert (r.days, r.working_days) == (None, None)
    assert r.instruction == "рассмотреть, подготовить ответ"


def test_second_example():
    r = understood("Иванову. В работу.")
    assert who(r) == ["ivanov"]
    assert r.addressees[0] == Addressee(STAFF.by_email("ivanov@x.example"), "Иванову")
    assert (r.due, r.due_text, r.days, r.working_days) == (None, None, None, None)
    assert r.instruction == "В работу."


def test_real_directory():
    staff = load(Path(__file__).resolve().parents[1] / "rules").staff
    r = understood(
        "Петрову А.С., Сидоренко — рассмотреть, подготовить ответ. Срок до 15.04.2026", staff=staff
    )
    assert [a.person.email for a in r.addressees] == ["petrov@sevkaz.example", "sidorenko@sevkaz.example"]
    assert understood("Иванову. В работу.", staff=staff).addressees[0].person.email == "ivanov@sevkaz.example"
    r = understood(
        "Бауыржан Ерланович, Ивановой М.А. — в работу. Начальнику Есильского РЭС — для сведения", staff=staff
    )
    assert [a.person.email for a in r.addressees] == [
        "kozhakhmetov@sevkaz.example",
        "ivanova@sevkaz.example",
        "esil-res@sevkaz.example",
    ]
    problems = parse_resolution("Иванова — рассмотреть", staff, today=TODAY).problems
    assert problems == ("«Иванова» — это Иванов С.П. или Иванова М.А.? Уточните, пожалуйста.",)


# --- names in every form -------------------------------------------------------


@pytest.mark.parametrize(
    "text, people",
    [
        ("А.С. Петрову — рассмотреть", ["petrov"]),  # initials before
        ("Петрову А. С. — рассмотреть", ["petrov"]),  # spaced initials
        ("А.С.Петрову — рассмотреть", ["petrov"]),  # glued
        ("Петрову A.C. — рассмотреть", ["petrov"]),  # Latin letters typed
        ("Петрову Алексею Сергеевичу — в работу", ["petrov"]),  # full name, dative
        ("Петровым А.С. подготовить ответ", ["petrov"]),  # instrumental
        ("Петрова А.С. — рассмотреть", ["petrov"]),  # genitive, initials fit
        ("Иванову С.П. и Ивановой М.А. — рассмотреть совместно", ["ivanov", "ivanova"]),
        ("Ивановой — в работу", ["ivanova"]),  # feminine -ой
        ("Иванову — в работу", ["ivanov"]),  # masculine dative
        ("Иванов — рассмотреть", ["ivanov"]),  # nominative
        ("Иванова М.А. — рассмотреть", ["ivanova"]),  # initials decide: her
        ("Иванова С.П. — рассмотреть", ["ivanov"]),  # initials decide: him
        ("Прошу Иванову М.А. подготовить расчёт", ["ivanova"]),  # accusative, initials
        ("Подготовить ответ совместно с Ивановым", ["ivanov"]),
        ("Сидоренко О.В. — к исполнению", ["sidorenko"]),  # indeclinable
        ("Кожахметову Б.Е. — рассмотреть", ["kozhakhmetov"]),  # Kazakh -ов
        ("Жумабаеву, Ахметову — для сведения", ["director", "deputy"]),
        ("Ахметовым согласовать", ["deputy"]),
        ("Нурланұлы А. — выехать на место", ["askhat"]),  # -ұлы, indeclinable
        ("Нурланулы — выехать на место", ["askhat"]),  # typed without ұ
        ("Серікқызы Г. — подготовить ответ", ["gulnar"]),  # -қызы
        ("Киму Д.О. — рассмотреть", ["kim"]),  # consonant surname
        ("Вишневской Е.И. — в работу", ["vishnevskaya"]),  # -ская
        ("Бауыржан Ерланович, прошу рассмотреть", ["kozhakhmetov"]),  # alias
        ("Бауыржану Ерлановичу — рассмотреть", ["kozhakhmetov"]),  # alias declined
        ("Ольге Викторовне — в работу", ["sidorenko"]),  # first name + patronymic
        ("Уважаемый Алексей Сергеевич! Прошу рассмотреть и подготовить ответ.", ["petrov"]),
        ("Юристам — проверить проект ответа", ["office"]),  # alias of a firm
        ("Юридическому агентству «Коргау» — проверить проект ответа", ["office"]),
        ("Начальнику Айыртауского РЭС — рассмотреть, ответить заявителю", ["ayyrtau-res"]),
        ("Тайыншинскому РЭС — разобраться", ["tayynsha-res"]),  # unit of a post
        ("Канцелярии — в дело", ["kanc"]),
        ("Сулейменовой — для мониторинга", ["pr"]),
    ],
)
def test_names(text, people):
    assert who(understood(text)) == people


def test_order_is_kept_first_is_responsible():
    assert who(understood("Сидоренко, Петрову, Ивановой — рассмотреть")) == ["sidorenko", "petrov", "ivanova"]
    assert who(understood("Петрову, Сидоренко, Ивановой — рассмотреть")) == ["petrov", "sidorenko", "ivanova"]


def test_duplicates_collapse_to_the_first_mention():
    r = understood("Петрову — рассмотреть. Сидоренко — подготовить ответ. Петрову А.С. доложить.")
    assert who(r) == ["petrov", "sidorenko"]
    assert r.addressees[0].as_written == "Петрову"
    assert who(understood("Ольге Викторовне, Сидоренко О.В. — в работу")) == ["sidorenko"]


def test_i_between_names_and_no_spaces():
    assert who(understood("Петрову и Сидоренко — рассмотреть")) == ["petrov", "sidorenko"]
    r = understood("Петрову А.С.,Сидоренко О.В.-рассмотреть")
    assert who(r) == ["petrov", "sidorenko"] and r.instruction == "рассмотреть"


def test_marked_responsible_comes_first():
    r = understood("Петрову, Сидоренко (отв.) — подготовить ответ. 10 дней")
    assert who(r) == ["sidorenko", "petrov"]
    assert r.instruction == "подготовить ответ"
    assert who(understood("Отв. исп. Иванова М.А., Петрову — для сведения")) == ["ivanova", "petrov"]
    assert who(understood("Совместно с Ивановым — подготовить ответ. Петрову А.С. — отв.")) == [
        "petrov",
        "ivanov",
    ]


def test_control_names_come_after_executors():
    r = understood("Контроль: Ахметов Н.К.\nПетрову — подготовить ответ")
    assert who(r) == ["petrov", "deputy"]
    assert r.instruction == "Контроль: Ахметов Н.К.\nподготовить ответ"


def test_any_case_and_several_lines():
    r = understood("ИВАНОВУ С.П. - В РАБОТУ. СРОК ДО 15 АПРЕЛЯ")
    assert who(r) == ["ivanov"] and r.due == dt.date(2026, 4, 15) and r.instruction == "В РАБОТУ"
    r = understood("петрову, сидоренко - рассмотреть. срок 5 р.д.")
    assert who(r) == ["petrov", "sidorenko"] and (r.days, r.working_days) == (5, True)
    r = understood("Петрову А.С.\nСидоренко О.В.\nРассмотреть, подготовить ответ.\nСрок до 15.04.2026")
    assert who(r) == ["petrov", "sidorenko"]
    assert r.instruction == "Рассмотреть, подготовить ответ"
    assert r.due == dt.date(2026, 4, 15)


# --- words that are not names --------------------------------------------------


@pytest.mark.parametrize(
    "instruction",
    [
        "рассмотреть",
        "подготовить ответ",
        "В работу",
        "Прошу рассмотреть и доложить",
        "Срочно!",
        "Контроль",
        "Ознакомить заявителя с ответом",
        "К исполнению",
        "В дело",
        "Доложить",
        "Для сведения",
        "Взять на контроль",
        "Прошу Вас рассмотреть лично",
        "Поручаю рассмотреть",
        "Рассмотреть обращение ТОО «Береке», ответить",
        "Заменить опору № 15 ВЛ-10 кВ ПС Бесколь",
        "Организовать обследование ВЛ-0,4 кВ",
        "Подготовить справку для Акимата района",
        "Рассмотреть и Доложить",
        "Жауап дайындаңыз",
        "Қарау, жауап дайындау",
        "Орындауға",
    ],
)
def test_resolution_words_are_not_names(instruction):
    for text in (f"Петрову — {instruction}", f"Петрову А.С.\n{instruction}", f"{instruction}. Петрову"):
        assert who(understood(text)) == ["petrov"], text


def test_people_who_are_not_addressees_stay_in_the_instruction():
    r = understood("Петрову — рассмотреть жалобу гр. Смирновой Н.П., ответ в срок")
    assert who(r) == ["petrov"]
    assert r.instruction == "рассмотреть жалобу гр. Смирновой Н.П., ответ в срок"
    r = understood("Петрову — рассмотреть, доложить Ахметову Н.К.")
    assert who(r) == ["petrov"] and r.instruction == "рассмотреть, доложить Ахметову Н.К."
    assert who(understood("Петрову — рассмотреть заявление Кузнецова")) == ["petrov"]
    assert who(understood("Петрову — выехать по ул. Абая, 15 и в с. Бесколь")) == ["petrov"]
    assert who(understood("Петрову — согласовать с Ахметовым Н.К.")) == ["petrov"]


def test_greeting_and_signature_are_not_addressees():
    r = understood("Добрый день! Петрову — рассмотреть.\nС уважением, Жумабаев Е.С.")
    assert who(r) == ["petrov"] and r.instruction == "рассмотреть."
    r = understood("Добрый день, коллеги!\nИванову — в работу\n\nС уважением,\nЖумабаев Е.С.\nДиректор")
    assert who(r) == ["ivanov"] and r.instruction == "в работу"
    # a manager's name alone on the last line, in the nominative, signs
    r = understood("Петрову — рассмотреть.\nАхметов Н.К.")
    assert who(r) == ["petrov"] and r.instruction == "рассмотреть"
    r = understood("Петрову — рассмотреть\n20.03.2026\nЖумабаев")
    assert who(r) == ["petrov"] and r.instruction == "рассмотреть" and r.due is None
    # ...but a manager written to in the dative is an addressee
    assert who(understood("Петрову — рассмотреть.\nАхметову Н.К.")) == ["petrov", "deputy"]


# --- what must be asked --------------------------------------------------------


def test_unknown_name():
    assert unclear("Петрушкину — рассмотреть") == (
        "Не найден сотрудник «Петрушкину». Уточните фамилию, пожалуйста.",
    )


def test_one_unknown_name_spoils_the_whole_resolution():
    problems = unclear("Петрову, Смирнову А.В. — рассмотреть")
    assert problems == ("Не найден сотрудник «Смирнову А.В.». Уточните фамилию, пожалуйста.",)


def test_every_problem_is_listed():
    problems = unclear("Иванова, Петрушкину, Петрову Н.К. — рассмотреть. Срок до 10.03.2026")
    assert len(problems) == 4
    assert "Иванов С.П." in problems[0] and "Иванова М.А." in problems[0]
    assert "Петрушкину" in problems[1]
    assert "Петрову Н.К." in problems[2] and "Петров А.С." in problems[2]
    assert "10.03.2026" in problems[3]


def test_ambiguous_names_both_candidates():
    assert unclear("Иванова — рассмотреть") == (
        "«Иванова» — это Иванов С.П. или Иванова М.А.? Уточните, пожалуйста.",
    )
    # «Прошу» wants the accusative: «Иванову» is then her as much as his dative
    assert unclear("Прошу Иванову рассмотреть") == (
        "«Иванову» — это Иванов С.П. или Иванова М.А.? Уточните, пожалуйста.",
    )


def test_initials_that_contradict_the_directory():
    assert unclear("Петрову Н.К. — рассмотреть") == (
        "«Петрову Н.К.»: инициалы не совпадают со справочником (Петров А.С.). Уточните, пожалуйста.",
    )
    assert unclear("Иванову Н.К. — в работу") == (
        "«Иванову Н.К.»: инициалы не совпадают со справочником (Иванов С.П. или Иванова М.А.). "
        "Уточните, пожалуйста.",
    )
    # initials that fit one reading decide: «Иванову М.А.» is her accusative
    assert who(understood("Назначить Иванову М.А. ответственной")) == ["ivanova"]
    assert "Петров Алексей Сергеевич" in unclear("Петрову Ольге Викторовне — в работу")[0]


def test_wrong_gender_is_not_corrected():
    assert unclear("Петровой — рассмотреть") == (
        "Не найден сотрудник «Петровой». Может быть, Петров А.С.? Уточните, пожалуйста.",
    )


def test_first_name_alone_is_not_enough():
    assert unclear("Ольге — в работу") == ("«Ольге» — укажите, пожалуйста, фамилию (Сидоренко О.В.?).",)


def test_capitalised_noun_in_a_list_of_names_is_asked_about():
    assert "Мельнику" in unclear("Петрову, Мельнику — рассмотреть")[0]


def test_no_addressee():
    assert "Не указан исполнитель" in unclear("Рассмотреть, подготовить ответ.")[0]
    assert "Текст резолюции не найден" in unclear("  \n ")[0]
    assert "Не указан исполнитель" in unclear("Прошу рассмотреть.\nС уважением, Жумабаев Е.С.")[0]


# --- deadlines -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, due, due_text",
    [
        ("Петрову — рассмотреть. Срок до 15.04.2026", dt.date(2026, 4, 15), "Срок до 15.04.2026"),
        ("Петрову — рассмотреть до 15.04.2026г.", dt.date(2026, 4, 15), "до 15.04.2026г."),
        ("Петрову — рассмотреть, срок – 15.04", dt.date(2026, 4, 15), "срок – 15.04"),
        ("Петрову — рассмотреть до 15 апреля", dt.date(2026, 4, 15), "до 15 апреля"),
        ("Петрову — рассмотреть к 20.03.2026", dt.date(2026, 3, 20), "к 20.03.2026"),  # today is fine
        ("Петрову — срок исполнения — 15.04.26", dt.date(2026, 4, 15), "срок исполнения — 15.04.26"),
        ("Петрову — не позднее 1 апреля 2026 г.", dt.date(2026, 4, 1), "не позднее 1 апреля 2026 г."),
        ("Петрову — рассмотреть. 15.04.2026 дейін", dt.date(2026, 4, 15), "15.04.2026 дейін"),
        ("Петрову — қарау, 15 сәуірге дейін", dt.date(2026, 4, 15), "15 сәуірге дейін"),
        ("Петрову — до среды", dt.date(2026, 3, 25), "до среды"),
        ("Петрову — доложить до понедельника", dt.date(2026, 3, 23), "до понедельника"),
        ("Петрову — ответ дать сегодня", dt.date(2026, 3, 20), "сегодня"),
        ("Петрову — срок до конца месяца", dt.date(2026, 3, 31), "срок до конца месяца"),
    ],
)
def test_deadline_dates(text, due, due_text):
    r = understood(text)
    assert (r.due, r.due_text, r.days, r.working_days) == (due, due_text, None, None)
    assert who(r) == ["petrov"]


def test_date_without_year_is_the_next_such_date():
    r = understood("Петрову — до 15 января", today=dt.date(2026, 12, 20))
    assert r.due == dt.date(2027, 1, 15)
    assert understood("Петрову — до 15.01", today=dt.date(2026, 12, 20)).due == dt.date(2027, 1, 15)


@pytest.mark.parametrize(
    "text, days, working, due_text",
    [
        ("Петрову — рассмотреть, 10 дней", 10, False, "10 дней"),
        ("Петрову — в течение 5 рабочих дней", 5, True, "в течение 5 рабочих дней"),
        ("Петрову — рассмотреть. Срок: 3 р.д.", 3, True, "Срок: 3 р.д."),
        ("Петрову — срок 5 раб. дней", 5, True, "срок 5 раб. дней"),
        ("Петрову — в течение трёх дней", 3, False, "в течение трёх дней"),
        ("Петрову — в течение пяти рабочих дней", 5, True, "в течение пяти рабочих дней"),
        ("Петрову — в 3-дневный срок", 3, False, "в 3-дневный срок"),
        ("Петрову — 10 календарных дней", 10, False, "10 календарных дней"),
        ("Петрову — срок 2 недели", 14, False, "срок 2 недели"),
        ("Петрову — 10 жұмыс күні", 10, True, "10 жұмыс күні"),
        ("Петрову — мерзімі 10 күн", 10, False, "мерзімі 10 күн"),
    ],
)
def test_deadline_days(text, days, working, due_text):
    r = understood(text)
    assert (r.due, r.days, r.working_days, r.due_text) == (None, days, working, due_text)


def test_no_deadline():
    r = understood("Петрову — рассмотреть, ответить в срок. Срочно!")
    assert (r.due, r.due_text, r.days, r.working_days) == (None, None, None, None)
    assert r.instruction == "рассмотреть, ответить в срок. Срочно!"


def test_dates_that_are_no_deadline():
    r = understood("Петрову — ответ на письмо от 01.03.2026 № 12, 10 дней")
    assert (r.due, r.days) == (None, 10)
    assert r.instruction == "ответ на письмо от 01.03.2026 № 12"


def test_past_dates_are_asked_about():
    assert unclear("Петрову — рассмотреть. Срок до 10.03.2026") == (
        "«Срок до 10.03.2026» — эта дата уже прошла (сегодня 20.03.2026). Укажите другой срок, пожалуйста.",
    )
    assert "эта дата уже прошла" in unclear("Петрову — до 10.03")[0]
    assert "такой даты нет" in unclear("Петрову — срок до 31.02.2026")[0]
    assert "больше чем через год" in unclear("Петрову — срок до 15.04.2028")[0]


def test_unclear_deadlines():
    assert "это срок исполнения?" in unclear("Петрову — рассмотреть. 15.04.2026")[0]
    assert "несколько сроков" in unclear("Петрову — срок до 15.04.2026, 10 дней")[0]
    assert "Не понял срок" in unclear("Петрову — срок: как можно скорее")[0]
    assert "по-разному" in unclear("Петрову — до конца недели")[0]
    assert "сегодня или через неделю" in unclear("Петрову — до пятницы")[0]  # today is Friday


# --- the manager's own words of a reply ----------------------------------------


def test_quoted_reply_and_phone_footer_are_stripped():
    body = (
        "Иванову. В работу.\n\nОтправлено с iPhone\n\n"
        "> 16 марта 2026 г., в 10:00, Mailflow <kanc@x.example> написал(а):\n>\n"
        "> На резолюцию: жалоба Смирновой Н.П., Петрушкину\n"
    )
    assert strip_quoted(body) == "Иванову. В работу."
    r = understood(body)
    assert who(r) == ["ivanov"] and r.instruction == "В работу."


@pytest.mark.parametrize(
    "body",
    [
        "Петрову — в работу\n\n-----Original Message-----\nFrom: Mailflow [mailto:kanc@x.example]\n"
        "Sent: Monday, March 16, 2026 10:00 AM\nSubject: На резолюцию\n\nИванова Петрушкину",
        "Петрову — в работу\n\n-------- Исходное сообщение --------\nОт: Mailflow <kanc@x.example>\nИванова",
        "Петрову — в работу\n\nпн, 16 мар. 2026 г. в 10:00, Mailflow <kanc@x.example>:\n> Иванова",
        "Петрову — в работу\n\nOn Mon, Mar 16, 2026 at 10:00 AM Mailflow <kanc@x.example>\nwrote:\n\n"
        "> Иванова",
        "Петрову — в работу\n\n16.03.2026 10:00, Mailflow пишет:\n> Иванова",
        "Петрову — в работу\nОтправлено из мобильной Почты Mail.ru\n\nИванова Петрушкину",
        "Петрову — в работу\nSent from my iPhone",
        "Петрову — в работу\n-- \nЖумабаев Е.С.\nДиректор ДП, тел. 8 7152 00-00-00",
        "Петрову — в работу\n\nОт: Mailflow <kanc@x.example>\nОтправлено: 16 марта 2026 г. 10:00\n"
        "Кому: director@x.example\nТема: На резолюцию\n\nИванова",
        "\r\nПетрову — в работу\r\n> Иванова\r\n",
    ],
)
def test_strip_quoted(body):
    assert strip_quoted(body) == "Петрову — в работу"
    assert who(understood(body)) == ["petrov"]


def test_strip_quoted_keeps_inline_answers_and_own_lines():
    body = "> Кому поручить?\nПетрову\n> Срок?\nдо 15.04.2026"
    assert strip_quoted(body) == "Петрову\nдо 15.04.2026"
    own = "Петрову — в работу.\nВ 10:00 доложить: итоги проверки."
    assert strip_quoted(own) == own


def test_realistic_phone_replies():
    r = understood(
        "Добрый день, коллеги!\nПетрову — рассмотреть, выехать на место по ул. Абая, 15. "
        "Сидоренко — подготовить ответ.\nСрок до 15.04.2026г.\n\nОтправлено с iPhone"
    )
    assert who(r) == ["petrov", "sidorenko"] and r.due == dt.date(2026, 4, 15)
    assert r.instruction == "рассмотреть, выехать на место по ул. Абая, 15. подготовить ответ"
    r = understood("Ахметову Н.К. для сведения. Сидоренко — к исполнению, в течение 5 рабочих дней")
    assert who(r) == ["deputy", "sidorenko"] and (r.days, r.working_days) == (5, True)
    assert r.instruction == "для сведения. к исполнению"
    r = understood("Начальнику Тайыншинского РЭС — разобраться, принять меры. Канцелярии — в дело.")
    assert who(r) == ["tayynsha-res", "kanc"]
    r = understood("Рассмотреть обращение, ответить в срок. Исполнитель: Сидоренко О.В.")
    assert who(r) == ["sidorenko"] and r.instruction == "Рассмотреть обращение, ответить в срок"
    r = understood("Сулейменовой — для мониторинга. Петрову: рассмотреть, доложить до 25 марта")
    assert who(r) == ["pr", "petrov"] and r.due == dt.date(2026, 3, 25)
    r = understood("1. Петрову — рассмотреть\n2. Сидоренко — подготовить ответ\n3. Срок 10 р.д.")
    assert who(r) == ["petrov", "sidorenko"] and (r.days, r.working_days) == (10, True)


def test_initials_without_dots_and_honorifics():
    assert who(understood("Иванову С — рассмотреть")) == ["ivanov"]
    r = understood("Петрову АС, Сидоренко ОВ - рассмотреть")
    assert who(r) == ["petrov", "sidorenko"] and r.instruction == "рассмотреть"
    assert "Петров А.С." in unclear("Петрову НК - рассмотреть")[0]
    r = understood("Иванову В работу")  # «В» is the preposition here, not an initial
    assert who(r) == ["ivanov"] and r.instruction == "В работу"
    r = understood("Г-ну Петрову — рассмотреть")
    assert who(r) == ["petrov"] and r.instruction == "рассмотреть"


def test_lists_with_labels():
    r = understood("Исполнители: Петров А.С. (отв.), Сидоренко О.В., Иванова М.А.\nСрок: 10 рабочих дней")
    assert who(r) == ["petrov", "sidorenko", "ivanova"]
    assert (r.due, r.days, r.working_days, r.instruction) == (None, 10, True, "")
    r = understood("Петрову\nСидоренко\nИвановой\n\nв работу")
    assert who(r) == ["petrov", "sidorenko", "ivanova"] and r.instruction == "в работу"
    r = understood("Петрову/Сидоренко — рассмотреть")
    assert who(r) == ["petrov", "sidorenko"] and r.instruction == "рассмотреть"
    r = understood("Петрову — рассмотреть. Контроль за Ахметовым Н.К.")
    assert who(r) == ["petrov", "deputy"]


def test_consumer_named_like_staff_is_not_an_addressee():
    r = understood("Петрову — рассмотреть. Ответ направить Иванову С.П. (заявителю)")
    assert who(r) == ["petrov"]
    assert r.instruction == "рассмотреть. Ответ направить Иванову С.П. (заявителю)"


def test_counts_of_days_that_are_no_deadline():
    r = understood("Петрову — разобраться, почему ответ задержан на 10 дней")
    assert (r.due, r.days) == (None, None)
    r = understood("Петрову — просрочка 12 дней, разобраться. Срок 3 р.д.")
    assert (r.days, r.working_days, r.due_text) == (3, True, "Срок 3 р.д.")
    r = understood("Петрову, Сидоренко.\nРассмотреть, подготовить ответ до 15-го апреля 2026 года.")
    assert (r.due, r.due_text) == (dt.date(2026, 4, 15), "до 15-го апреля 2026 года")
    r = understood("Петрову — срок до 15.04.2026 включительно")
    assert (r.due, r.due_text) == (dt.date(2026, 4, 15), "срок до 15.04.2026 включительно")


def test_a_whole_unstripped_thread_is_refused():
    assert "слишком длинный" in unclear("Петрову — в работу. " + "Текст письма. " * 1000)[0]
