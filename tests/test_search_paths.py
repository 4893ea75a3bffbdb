"""The journal's search finds what the plain rule finds, whichever way it gets there.

The rule (mailflow.case.search): every word of the query occurs in the folded
search text; newest first by registered_at; the count capped. The journal's
page takes different paths by dialect and by how common a word is: on SQLite
a walk over the newest cases or the FTS table, short words tested on the rows,
a count led by the FTS table. Each is checked here against the rule computed
in Python over the same rows, with the page, the walk and the caps made small
so that a few hundred cases cross every boundary.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlmodel import Session, select

from mailflow import db
from mailflow.case.search import Filter, index_fields, terms
from mailflow.models import Document
from mailflow.web import cases, signin
from tests.support import database_urls, load_rules

CLERK = "kanc@sevkaz.example"
START = dt.datetime(2020, 1, 1, 9, 0, tzinfo=dt.UTC)
N = 240
QUERIES = [
    "Ахметов",  # common: fills a page in the walk
    "Ким",  # less common: the index finds them
    "Старов",  # common, but not among the newest: the walk falls short
    "абая 57",  # a long word with a house number (no trigram)
    "57",  # a house number alone
    "д. 5",
    "5",
    "8 (705) 000-00-17",  # a phone in another format
    "ё",  # folds to е, one character
    "%",  # LIKE's own characters are text
    'абая "57',  # a quote in a word
    "Нетакого",
    "",
]


def _docs(rnd: random.Random) -> list[Document]:
    """Cases whose ids do not follow their registration times, some at the same
    second (ties are ordered by id), with common and rare surnames and short
    house numbers."""
    docs = []
    for i in range(N):
        last = rnd.choice(["Ахметов", "Ахметов", "Ахметов", "Иванов", "Сатпаев", "Королёв"])
        if i % 11 == 0:
            last = "Ким"
        if i % 9 == 0:
            last = f"{last}{i}"
        street = rnd.choice(["Абая", "Мира", "Ленина"])
        house = rnd.choice([5, 7, 57, 157, 12, 100])
        reg = START + dt.timedelta(minutes=rnd.randint(0, N // 2))  # ties, and out of id order
        if reg < START + dt.timedelta(minutes=N // 6):
            last = "Старов"
        d = Document(
            journal="dp",
            year=2020,
            seq=i + 1,
            number=f"ВХ-2020-{i + 1:05d}",
            registered_at=reg,
            received_at=reg,
            channel="email",
            last_name=last,
            first_name="Болат",
            address=f"г. Петропавловск, ул. {street}, д. {house}{'%' if i == 31 else ''}",
            phone=f"+7705000{i:04d}",
            sha256="0" * 64,
        )
        index_fields(d)
        docs.append(d)
    return docs


def _expected(docs: list[Document], q: str) -> list[str]:
    want = terms(q)
    hits = [d for d in docs if all(t in d.search for t in want)]
    hits.sort(key=lambda d: (d.registered_at, d.id or 0), reverse=True)
    return [d.number for d in hits]


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request, tmp_path, monkeypatch):
    monkeypatch.setattr(cases, "PAGE_SIZE", 7)
    monkeypatch.setattr(cases, "WALK", 60)
    monkeypatch.setattr(cases, "COUNT_AHEAD", 3)  # a first page counts up to 21
    monkeypatch.setattr(cases, "COUNT_CAP", 40)
    with database_urls(tmp_path, request.param) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = db.make_engine(url)
        db.migrate(engine)
        docs = _docs(random.Random(3))
        with Session(engine) as s:
            s.add_all(docs)
            s.commit()
            for d in docs:
                s.refresh(d)
        rules = load_rules()
        person = rules.staff.by_email(CLERK)
        who = signin.Signed(person, rules.access.rights(person.roles), "x")
        try:
            yield engine, rules, who, docs
        finally:
            engine.dispose()


@pytest.mark.parametrize("q", QUERIES)
def test_every_page_is_the_rule_s_page_and_the_count_is_capped(journal, q):
    engine, rules, who, docs = journal
    want = _expected(docs, q)
    size = cases.PAGE_SIZE
    with Session(engine) as s:
        for page in range(1, 8):
            got = cases.listing(s, rules, who, Filter(q=q), page)
            cap = min(cases.COUNT_CAP, (page - 1 + cases.COUNT_AHEAD) * size)
            assert (got.total, got.more) == (min(len(want), cap), len(want) > cap), (q, page)
            assert got.page == min(page, max(1, -(-got.total // size))), (q, page)
            shown = want[(got.page - 1) * size : got.page * size]
            assert [r.doc.number for r in got.rows] == shown, (q, page)


def test_the_cases_behind_the_paths(journal):
    """The queries above do cross the boundaries they are meant to (else the test
    above proves less than it says)."""
    _, _, _, docs = journal
    newest = sorted(docs, key=lambda d: (d.registered_at, d.id or 0), reverse=True)[: cases.WALK]
    in_walk = {d.number for d in newest}
    # spread evenly, this many matches would put a page among the newest
    need = cases.PAGE_SIZE * len(docs) / cases.WALK
    common = [n for n in _expected(docs, "Ахметов") if n in in_walk]
    assert len(common) >= cases.PAGE_SIZE and len(_expected(docs, "Ахметов")) >= need
    assert cases.PAGE_SIZE < len(_expected(docs, "Ким")) < need
    assert len(_expected(docs, "Старов")) >= need and not in_walk & set(_expected(docs, "Старов"))
    assert len(_expected(docs, "абая 57")) > cases.COUNT_CAP // 2
    assert len(_expected(docs, "57")) > cases.COUNT_CAP
    assert 0 < len(_expected(docs, "%")) < cases.PAGE_SIZE
    assert len(_expected(docs, "8 (705) 000-00-17")) == 1


def test_a_search_narrowed_by_state(journal):
    """The journal's other conditions apply on every path."""
    engine, rules, who, docs = journal
    with Session(engine) as s:
        for d in s.exec(select(Document)).all():
            if (d.id or 0) % 4 == 0:
                d.status = "in_work"
                s.add(d)
        s.commit()
        stored = list(s.exec(select(Document)).all())
        open_ = {d.number for d in stored if d.status == "in_work"}
        for q in ("Ахметов", "Ким", "57", "абая 57"):
            want = [n for n in _expected(stored, q) if n in open_]
            got = cases.listing(s, rules, who, Filter(q=q, state="in_work"), 1)
            assert [r.doc.number for r in got.rows] == want[: cases.PAGE_SIZE], q
            cap = cases.COUNT_AHEAD * cases.PAGE_SIZE
            assert (got.total, got.more) == (min(len(want), cap), len(want) > cap), q


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Ахметовой", ["ахметов"]),
        ("отключения", ["отключен"]),
        ("Абая 57", ["абая", "57"]),  # a short word and a number stay as they are
        ("мира", ["мира"]),  # «мир» would find «Мирный»
        ("8 705 000 00 17", ["77050000017"]),
        ("Сәтпаевой", [t for t in terms("Сатпаевой")]),  # folded before the stem is taken
        ("Smith", ["smith"]),
    ],
)
def test_a_russian_word_is_looked_for_by_its_stem(query, expected):
    assert terms(query) == expected
