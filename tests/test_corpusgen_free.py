"""`tests/corpusgen.py --free`: free-form appeals, and the declension their truth rests on.

The expected forms below are written by hand from Russian and Kazakh grammar,
not taken from the generator's output: a wrong declension in the corpus would
make a wrong truth for the reader it measures.
"""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest

from mailflow.vocabulary import KIND_KEYS
from tests.support import CORPUS

corpusgen = pytest.importorskip("corpusgen")
free = pytest.importorskip("corpusgen_free")

GENITIVE = [  # (last, first, patronymic, female) -> "от ..." in a letter's header
    (("Иванов", "Бауыржан", "Серикович", False), "Иванова Бауыржана Сериковича"),
    (("Есенова", "Ольга", "Сериковна", True), "Есеновой Ольги Сериковны"),
    (("Петренко", "Гульнара", "Болатовна", True), "Петренко Гульнары Болатовны"),
    (("Петренко", "Сергей", "Иванович", False), "Петренко Сергея Ивановича"),
    (("Сергеева", "Айгуль", "Маратовна", True), "Сергеевой Айгули Маратовны"),
    (("Кузнецова", "Наталья", "Петровна", True), "Кузнецовой Натальи Петровны"),
    (("Смирнова", "Мария", "Ильинична", True), "Смирновой Марии Ильиничны"),
    (("Никитин", "Пётр", "Алексеевич", False), "Никитина Петра Алексеевича"),
    (("Белов", "Павел", "Ильич", False), "Белова Павла Ильича"),
    (("Гусев", "Игорь", "Юрьевич", False), "Гусева Игоря Юрьевича"),
    (("Титов", "Илья", "Андреевич", False), "Титова Ильи Андреевича"),
    (("Вишневский", "Дмитрий", "Олегович", False), "Вишневского Дмитрия Олеговича"),
    (("Завадская", "Ольга", "Викторовна", True), "Завадской Ольги Викторовны"),
    (("Ковальчук", "Николай", "Петрович", False), "Ковальчука Николая Петровича"),
    (("Ковальчук", "Любовь", "Николаевна", True), "Ковальчук Любови Николаевны"),
    (("Черных", "Андрей", "Сергеевич", False), "Черных Андрея Сергеевича"),
    (("Ким", "Асель", None, True), "Ким Асели"),
    (("Мусина", "Сауле", "Ерлановна", True), "Мусиной Сауле Ерлановны"),
    (("Ильина", "Алия", "Болатовна", True), "Ильиной Алии Болатовны"),
    (("Құлжанова", "Жұлдыз", "Әділқызы", True), "Құлжановой Жұлдыз Әділқызы"),
    (("Есенова", "Әсел", "Қанатқызы", True), "Есеновой Әсел Қанатқызы"),
    (("Қасымов", "Дәурен", "Ғабитұлы", False), "Қасымова Дәурена Ғабитұлы"),
    (("Байгожин", "Ерлан", None, False), "Байгожина Ерлана"),
]
ABLATIVE = [  # Kazakh "from": the suffix on the name's last word only
    ("Қасымов Дәурен Ғабитұлы", "Қасымов Дәурен Ғабитұлынан"),
    ("Құлжанова Әсел Қанатқызы", "Құлжанова Әсел Қанатқызынан"),
    ("Серікбаев Асхат", "Серікбаев Асхаттан"),
    ("Омарова Жұлдыз", "Омарова Жұлдыздан"),
    ("Ахметов Дәурен", "Ахметов Дәуреннен"),
    ("Нұрланова Сәуле", "Нұрланова Сәуледен"),
    ("Жұмабаев Бауыржан", "Жұмабаев Бауыржаннан"),
    ("Есенова Әсел", "Есенова Әселден"),
]
TRUTH_KEYS = {
    "message_id",
    "channel",
    "kind",
    "group",
    "consumer",
    "origin_unit",
    "attachments",
    "book_entry_at",
    "subject",
    "file",
}
PHONE = re.compile(r"^\+7 7\d\d \d{3} \d\d \d\d$")


@pytest.mark.parametrize(("name", "expected"), GENITIVE)
def test_names_decline_into_the_genitive(name, expected):
    last, first, patr, female = name
    assert free.genitive(last, first, patr, female) == expected


def test_feminine_surnames():
    assert [free.feminine_surname(s) for s in ("Иванов", "Ильин", "Вишневский", "Петренко", "Ким")] == [
        "Иванова",
        "Ильина",
        "Вишневская",
        "Петренко",
        "Ким",
    ]


@pytest.mark.parametrize(("name", "expected"), ABLATIVE)
def test_kazakh_ablative_on_the_last_word(name, expected):
    last, first, *rest = name.split()
    p = free.Person(last, first, rest[0] if rest else None, False, "kz")
    assert p.ablative == expected


def test_free_corpus_six_messages(tmp_path):
    out = tmp_path / "free"
    assert corpusgen.main([str(out), "--free", "--n", "6", "--seed", "1"]) == 0
    emls = sorted(out.glob("*.eml"))
    lines = (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(emls) == 6 and len(lines) == 6
    truths = [json.loads(line) for line in lines]
    built = free.build_all(6, 1)
    sample = CORPUS / "free" / "truth.jsonl"
    sample_consumer: set[str] = set()
    if sample.exists():
        for line in sample.read_text(encoding="utf-8").splitlines():
            sample_consumer |= set(json.loads(line)["consumer"])
    for eml, truth, (raw, _, notes) in zip(emls, truths, built):
        assert eml.read_bytes() == raw  # the seed decides every byte
        assert set(truth) == TRUTH_KEYS and truth["file"] == eml.name
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        c = truth["consumer"]
        assert truth["kind"] in KIND_KEYS and truth["kind"] != "обращение"
        assert truth["group"] == 1 and truth["book_entry_at"] is None
        assert c["phone"] is None or PHONE.match(c["phone"])
        assert set(c) <= (sample_consumer or set(c))
        sender = msg["From"].addresses[0].addr_spec
        if truth["channel"] == "email":
            assert c["email"] == sender and truth["origin_unit"] is None
        else:
            unit, channel = free.CHIEFS[sender][:2]
            assert (truth["channel"], truth["origin_unit"]) == (channel, unit)
            assert truth["attachments"] and all(a["pages"] >= 1 for a in truth["attachments"])
        # the consumer's name is in what was written, in one of its forms
        person = free.Person(
            c["last_name"], c["first_name"], c["patronymic"], c["last_name"].endswith("а"), "ru"
        )
        written = " ".join(notes.get("printed", [])) + " " + notes.get("body", "")
        forms = (person.nominative, person.genitive, c["last_name"], f"{c['first_name']} {c['last_name']}")
        assert any(f in " ".join(written.split()) for f in forms), (eml.name, written)
    assert {n["family"] for _, _, n in built} == {"letter", "email"}
    assert any(n["lang"] == "kk" for _, _, n in built)
