"""The people a resolution names, found against the staff directory.

Every run of words that names someone — a surname in any case with or
without initials or first name and patronymic, a first name with
patronymic, an alias, a post or unit — becomes a Mention. A mention is
resolved to exactly one directory entry or carries a problem in Russian for
the manager: unknown, ambiguous (every candidate named), initials or first
name that contradict the directory.

Words that only look like names are not taken for addressees when their
place in the sentence says they are something else: a consumer («жалобу
Смирновой», «гр. Сидоровой»), a place («ул. Абая», «в Тайыншинский РЭС»),
someone to report to («доложить Ахметову»). Those stay in the instruction.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from . import morph
from .directory import Entry, Index

L = morph.LETTERS
_TOKEN = re.compile(
    rf"(?P<init>(?<![{L}\d.])[{L}]\.(?:[ \t]?[{L}](?:\.|(?![{L}\d])))?)"
    rf"|(?P<word>[{L}]+(?:[-'’][{L}]+)*)"
    r"|(?P<num>\d+)"
    r"|(?P<nl>\n)"
    r"|(?P<punct>\S)"
)
_TOKEN_NO_INIT = re.compile(rf"(?P<word>[{L}]+(?:[-'’][{L}]+)*)|(?P<num>\d+)|(?P<nl>\n)|(?P<punct>\S)")
_NOT_INITIALS = frozenset({"т.е", "т.д", "т.п", "т.к", "и.о", "р.д", "к.д", "н.в", "т.ч", "с.г", "п.п"})

QUOTES = "«»\"“”„'"
BOUNDARY = ".!?;"
SOFT = ":—–-(" + QUOTES

# lemma keys after which a name is not an addressee but part of the instruction
_ASIDE_AFTER = frozenset(
    """
    гр гражданин гражданка заявитель заявительница потребитель абонент житель жительница
    жалоба обращение заявление письмо претензия запрос семья ип
    доложить сообщить информировать проинформировать уведомить известить
    от о об обо у в во на из по при за про через к ко без после
    улица проспект поселок посёлок микрорайон село город аул дом район р-н область имени станция
""".split()
)
# abbreviations with a dot after which a capital is a place or a consumer: «ул. Абая», «с. Бесколь»
_ASIDE_ABBREV = frozenset("гр ул пр просп пос мкр с г д кв обл им ст".split())
_CONSUMERS = frozenset("заявитель заявительница потребитель абонент гражданин гражданка".split())
_ASIDE_AFTER_WITH = frozenset("согласовать связаться созвониться встретиться обсудить".split())
_ACCUSATIVE_VERBS = frozenset("просить обязать обязывать назначить назначать ознакомить привлечь".split())
_LABELS = frozenset(
    """исполнитель исполнители исп соисполнитель соисполнители соисп кому адресат
    адресаты ответственный ответственная ответственные отв ответств
    г-ну г-же господину госпоже тов""".split()
)
_RESPONSIBLE = frozenset(
    {"отв", "ответств", "ответственный", "ответственная", "ответственному", "ответственной", "ответственным"}
)
_EQUIPMENT = frozenset("пс тп ктп ктпн рп зтп мтп вл кл ф фидер подстанция подстанции".split())
_PLACE_NOUNS = frozenset("район района району области область город города".split())

# words a resolution is made of; never reported as an unknown name
STOPWORDS = frozenset(
    """
    вы вас вам вами ваш ваша ваше ваши вашего вашей
    добрый доброе здравствуйте уважаемый уважаемая уважаемые коллеги привет приветствую спасибо
    благодарю пожалуйста прошу срочно контроль ознакомить ознакомиться ознакомлен согласен
    согласована согласовано одобряю разрешаю поручаю рассмотреть подготовить ответ ответить
    работу работа исполнению исполнение дело доложить сведению сведения инфо информации
    исполнитель исполнители отв ответственный резолюция
    салем сәлем сәлеметсіз бе рахмет құрметпен орындауға орындау қарау қарап жауап дайындау
    дайындаңыз назарға бақылауға бақылау мерзімі дейін тапсырылсын тапсырамын шара қабылдау
    шағым өтініш хабарлау хабарлаңыз бойынша және жұмысқа жұмыс күні күн ішінде
    аким акима акиму акимом акимат акимата акимату акиматом акимате акиматы акиматов
    энергонадзор энергонадзора госэнергонадзор госэнергонадзора
""".split()
)
_STOPKEYS = frozenset(morph.key(w) for w in STOPWORDS)


@dataclass
class Token:
    kind: str  # init word num nl punct mask
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return morph.key(self.text)


@dataclass
class Mention:
    start: int
    end: int
    first: int  # token indices, inclusive
    last: int
    text: str
    entries: tuple[Entry, ...] = ()
    problem: str | None = None
    context: str = "addressee"  # addressee | aside | control
    responsible: bool = False
    remove: list[tuple[int, int]] = field(default_factory=list)  # label/marker spans
    nominative: bool = False

    @property
    def entry(self) -> Entry | None:
        return self.entries[0] if len(self.entries) == 1 and self.problem is None else None


def text_mode(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if letters and not any(c.isupper() for c in letters):
        return "lower"
    if letters and not any(c.islower() for c in letters):
        return "upper"
    return "mixed"


def tokenize(text: str, masked: list[tuple[int, int]], mode: str) -> list[Token]:
    out: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "init" and not _valid_initials(m.group(0), mode):
            for n in _TOKEN_NO_INIT.finditer(m.group(0)):
                out.append(Token(n.lastgroup, n.group(0), m.start() + n.start(), m.start() + n.end()))
            continue
        out.append(Token(kind, m.group(0), m.start(), m.end()))
    result: list[Token] = []
    for t in out:
        span = next(((s, e) for s, e in masked if t.start < e and s < t.end), None)
        if span:
            if not result or result[-1].kind != "mask" or result[-1].start != span[0]:
                result.append(Token("mask", text[span[0] : span[1]], span[0], span[1]))
            continue
        result.append(t)
    return result


def _valid_initials(text: str, mode: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if all(c.isupper() for c in letters):
        return True
    if any(c.isupper() for c in letters):
        return False
    if mode == "lower":
        return morph.key(text.replace(" ", "").rstrip(".")) not in _NOT_INITIALS
    return len(letters) == 2 and morph.key(text.replace(" ", "").rstrip(".")) not in _NOT_INITIALS


def _initial_letters(t: Token) -> tuple[str, ...]:
    return tuple(morph.letter_key(c) for c in t.text if c.isalpha())


class _Finder:
    def __init__(self, text: str, tokens: list[Token], index: Index, mode: str):
        self.text, self.toks, self.ix, self.mode = text, tokens, index, mode
        self.used: set[int] = set()

    # --- token helpers -------------------------------------------------
    def tok(self, i: int) -> Token | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def adjacent(self, i: int, j: int, allow: str = "") -> bool:
        """Tokens i and j follow each other with only blanks (and `allow`) between."""
        a, b = self.tok(i), self.tok(j)
        if a is None or b is None:
            return False
        gap = self.text[a.end : b.start]
        return all(c in " \t" + allow for c in gap) and all(
            self.toks[k].kind == "punct" and self.toks[k].text in allow for k in range(i + 1, j)
        )

    def is_word(self, i: int) -> bool:
        t = self.tok(i)
        return t is not None and t.kind == "word"

    def sentence_start(self, i: int) -> str:
        """'hard' at the start of a sentence or line, 'soft' after : or a dash, '' inside."""
        k = i - 1
        while k >= 0:
            t = self.toks[k]
            if t.kind == "nl" or t.kind == "mask":
                return "hard"
            if t.kind == "punct":
                if t.text in BOUNDARY:
                    return "hard"
                if t.text in SOFT:
                    return "soft"
                k -= 1
                continue
            return ""
        return "hard"

    def clause_start(self, i: int) -> int:
        k = i - 1
        while k >= 0:
            t = self.toks[k]
            if t.kind in ("nl", "mask") or (
                t.kind == "punct"
                and t.text in BOUNDARY
                and not (
                    t.text == "."
                    and self.is_word(k - 1)
                    and self.adjacent(k - 1, k, ".")
                    and self.toks[k - 1].key
                    in ("гр", "ул", "пр", "просп", "пос", "мкр", "обл", "им", "исп", "отв", "ответств")
                )
            ):
                return k + 1
            k -= 1
        return 0

    def in_quotes(self, i: int) -> bool:
        t = self.toks[i]
        line_start = self.text.rfind("\n", 0, t.start) + 1
        before = self.text[line_start : t.start]
        return before.count("«") > before.count("»") or before.count('"') % 2 == 1

    # --- name-likeness of words no entry matched -------------------------
    def looks_like_name(self, i: int) -> bool:
        t = self.toks[i]
        k = t.key
        if len(k) < 2 or k in _STOPKEYS or not any(c in morph.CYR for c in t.text):
            return False
        if morph.lemmas(t.text) & _STOPKEYS or self.in_quotes(i):
            return False
        if self._initials_next_to(i):
            return True
        if t.text.isupper() and self.mode == "mixed":
            return False  # РЭС, ТОО, ВЛ: abbreviations
        if self._place_adjective(i) or self._after_equipment(i):
            return False
        score = morph.name_score(t.text)
        geo = sum(p.score for p in morph.parses(t.text) if {"Geox", "Orgn"} & p.tag.grammemes)
        if geo >= max(score, 0.3):
            return False
        if self.mode != "mixed":
            return score >= 0.5
        if not t.text[0].isupper():
            return score >= 0.9
        if self.sentence_start(i):
            return score >= 0.3 or not morph.is_known(t.text)
        # a capital inside a sentence: a proper name, unless a plain verb or word
        # capitalised on a phone («Прошу Рассмотреть»); a capitalised noun next to
        # a name in a list («Петрову, Мельнику») is taken for a surname
        if score > 0 or not morph.is_known(t.text):
            return True
        return self._listed_after_name(i) and any(
            p.tag.POS == "NOUN" and p.score >= 0.3 for p in morph.parses(t.text)
        )

    def _listed_after_name(self, i: int) -> bool:
        k = i - 1
        if k >= 0 and (self.toks[k].text == "," or self.toks[k].key == "и"):
            return k - 1 in self.used
        return False

    def _place_adjective(self, i: int) -> bool:
        nxt = self.tok(i + 1)
        if nxt is None or nxt.kind != "word" or not self.adjacent(i, i + 1):
            return False
        if not any("ADJF" in p.tag for p in morph.parses(self.toks[i].text)):
            return False
        return (nxt.text.isupper() and len(nxt.text) > 1) or nxt.key in _PLACE_NOUNS

    def _after_equipment(self, i: int) -> bool:
        """«ПС Бесколь», «ТП Северная»: the name of a substation, not a person."""
        p = self.tok(i - 1)
        return (
            p is not None
            and p.kind == "word"
            and self.adjacent(i - 1, i)
            and (p.key in _EQUIPMENT or (self.mode == "mixed" and p.text.isupper() and len(p.text) > 1))
        )

    def _initials_next_to(self, i: int) -> bool:
        """Initials no earlier name took stand right before or after the word."""
        t = self.toks[i]
        if self.mode == "mixed" and not t.text[0].isupper():
            return False
        before, after = self.tok(i - 1), self.tok(i + 1)
        return (
            before is not None
            and before.kind == "init"
            and i - 1 not in self.used
            and self.adjacent(i - 1, i)
        ) or (after is not None and after.kind == "init" and self.adjacent(i, i + 1))

    # --- matching ----------------------------------------------------------
    def find(self) -> list[Mention]:
        out: list[Mention] = []
        i = 0
        while i < len(self.toks):
            t = self.toks[i]
            m = None
            if t.kind in ("word", "num", "init"):
                m = self.phrase_at(i) if t.kind != "init" else None
                m = m or self.person_at(i)
            if m:
                out.append(m)
                self.used.update(range(m.first, m.last + 1))
                i = m.last + 1
            else:
                i += 1
        for m in out:
            self.classify(m)
        return out

    def _mention(self, first: int, last: int, **kw) -> Mention:
        s, e = self.toks[first].start, self.toks[last].end
        return Mention(s, e, first, last, self.text[s:e], **kw)

    def phrase_at(self, i: int) -> Mention | None:
        best_len, best_last, found = 0, -1, []
        for ph in self.ix.phrases:
            if len(ph.words) < best_len:
                break
            j, last, ok = i, -1, True
            for n, lemmas in enumerate(ph.words):
                while (
                    n
                    and self.tok(j) is not None
                    and self.toks[j].kind == "punct"
                    and self.toks[j].text in QUOTES + "№"
                ):
                    j += 1
                t = self.tok(j)
                if t is None or t.kind not in ("word", "num") or not (morph.lemmas(t.text) & lemmas):
                    ok = False
                    break
                if n and not self.adjacent(last, j, QUOTES + "№"):
                    ok = False
                    break
                last, j = j, j + 1
            if not ok:
                continue
            if ph.unit and not morph.has_case(self.toks[i].text, {"nomn", "datv"}):
                continue
            if len(ph.words) > best_len:
                best_len, best_last, found = len(ph.words), last, []
            if ph.entry not in found:
                found.append(ph.entry)
        if not found:
            return None
        opened = self.text[self.toks[i].start : self.toks[best_last].end].count("«")
        while opened > 0 and self.tok(best_last + 1) is not None and self.toks[best_last + 1].text == "»":
            best_last, opened = best_last + 1, opened - 1
        m = self._mention(i, best_last, entries=tuple(found))
        if len(found) > 1:
            m.problem = _ambiguous(m.text, found)
        return m

    def person_at(self, i: int) -> Mention | None:
        ix = self.ix
        j = i
        pre = post = None
        if self.toks[j].kind == "init":
            if not (self.is_word(j + 1) and self.adjacent(j, j + 1)):
                return None
            pre, j = j, j + 1
        if not self.is_word(j):
            return None
        w = self.toks[j]
        sur = first = patr = None
        sur_c = ix.surnames.get(w.key) if self._may_be_name(j) else None
        if sur_c:
            sur, j = (j, sur_c), j + 1
            if self.is_word(j) and self.adjacent(j - 1, j) and self._first_like(j):
                first, j = j, j + 1
                if self.is_word(j) and self.adjacent(j - 1, j) and self._patr_like(j):
                    patr, j = j, j + 1
            elif (
                pre is None
                and self.tok(j) is not None
                and self.adjacent(j - 1, j)
                and (self.toks[j].kind == "init" or self._bare_initials(j))
            ):
                post, j = j, j + 1
        elif (
            self._may_be_name(j)
            and self.is_word(j + 1)
            and self.adjacent(j, j + 1)
            and w.key in ix.firsts
            and self.toks[j + 1].key in ix.patronymics
        ):
            first, patr, j = j, j + 1, j + 2
            nxt = self.tok(j)
            if nxt is not None and nxt.kind == "word" and self.adjacent(j - 1, j) and nxt.key in ix.surnames:
                sur, j = (j, ix.surnames[nxt.key]), j + 1
        elif (
            self._may_be_name(j)
            and (w.key in ix.firsts or w.key in ix.patronymics)
            and (w.text[0].isupper() or self.mode != "mixed")
            and pre is None
        ):
            # a first name or patronymic alone: not enough to know who is meant
            cands = [e for e, _ in ix.firsts.get(w.key, []) + ix.patronymics.get(w.key, [])]
            m = self._mention(j, j, entries=tuple(dict.fromkeys(cands)))
            shown = " или ".join(e.short for e in m.entries)
            m.problem = f"«{m.text}» — укажите, пожалуйста, фамилию ({shown}?)."
            return m
        elif pre is not None or self.looks_like_name(j):
            j += 1
            if (
                pre is None
                and self.tok(j) is not None
                and self.toks[j].kind == "init"
                and self.adjacent(j - 1, j)
            ):
                j += 1
            m = self._mention(i, j - 1)
            m.problem = self._unknown(m.text, w)
            return m
        else:
            return None
        m = self._mention(i, j - 1)
        self.resolve(m, sur, first, patr, pre if pre is not None else post)
        return m

    def _bare_initials(self, j: int) -> bool:
        """«Иванову С —», «Петрову АС,»: capitals without dots right after a surname,
        followed by no word (so «Иванову В работу» keeps its preposition)."""
        t = self.toks[j]
        if (
            t.kind != "word"
            or len(t.text) > 2
            or not t.text.isupper()
            or t.key in _EQUIPMENT
            or t.key in ("дп", "ао", "ип")
            or (len(t.text) == 2 and self.mode == "upper")
        ):
            return False
        nxt = self.tok(j + 1)
        return (
            nxt is None
            or nxt.kind in ("nl", "mask")
            or (nxt.kind == "punct" and nxt.text not in "." and nxt.text not in QUOTES)
        )

    def _may_be_name(self, j: int) -> bool:
        """A lower-case word in mixed-case text is a name only if it cannot be a common word."""
        t = self.toks[j]
        if self.mode != "mixed" or t.text[0].isupper():
            return True
        return morph.name_score(t.text) >= 0.5 or not morph.is_known(t.text)

    def _first_like(self, j: int) -> bool:
        t = self.toks[j]
        if t.key in self.ix.firsts:
            return True
        return (t.text[0].isupper() or self.mode != "mixed") and any(
            "Name" in p.tag.grammemes and p.score >= 0.3 for p in morph.parses(t.text)
        )

    def _patr_like(self, j: int) -> bool:
        t = self.toks[j]
        return t.key in self.ix.patronymics or any("Patr" in p.tag.grammemes for p in morph.parses(t.text))

    def resolve(self, m: Mention, sur, first, patr, init) -> None:
        ix = self.ix
        cases: dict[Entry, frozenset[str]] = {}
        if sur is not None:
            for e, c in sur[1]:
                cases[e] = cases.get(e, frozenset()) | c
            cands = list(cases)
        else:
            cands = [e for e, _ in ix.firsts.get(self.toks[first].key, [])]
        by_surname = list(cands)
        if first is not None:
            k = self.toks[first].key
            cands = [e for e in cands if k in e.first_forms]
        if patr is not None:
            k = self.toks[patr].key
            cands = [e for e in cands if k in e.patronymic_forms]
        if not cands:
            if sur is not None:
                m.problem = (
                    f"«{m.text}»: имя и отчество не совпадают со справочником "
                    f"({_or(e.full for e in dict.fromkeys(by_surname))}). Уточните, пожалуйста."
                )
            else:
                m.problem = self._unknown(m.text, self.toks[m.first])
            return
        if init is not None:
            letters = _initial_letters(self.toks[init])
            matching = [e for e in cands if _initials_fit(e, letters)]
            if not matching:
                m.problem = (
                    f"«{m.text}»: инициалы не совпадают со справочником "
                    f"({_or(e.short for e in cands)}). Уточните, пожалуйста."
                )
                m.entries = tuple(cands)
                return
            cands = matching
        m.nominative = sur is not None and all("nom" in cases.get(e, ()) for e in cands)
        if len(cands) > 1 and sur is not None and first is None and patr is None:
            cands = self._prefer_dative(m, cands, cases)
        m.entries = tuple(cands)
        if len(cands) > 1:
            m.problem = _ambiguous(m.text, cands)

    def _prefer_dative(self, m: Mention, cands: list[Entry], cases) -> list[Entry]:
        """«Иванову» is the dative of Иванов, not the accusative of Иванова —
        unless the sentence asks for the accusative («Прошу Иванову …»)."""
        start = self.clause_start(m.first)
        for k in range(start, m.first):
            t = self.toks[k]
            if t.kind == "word" and morph.lemmas(t.text) & _ACCUSATIVE_VERBS:
                return cands
        marked = [e for e in cands if "dat" in cases[e] and "nom" not in cases[e]]
        others = [e for e in cands if e not in marked]
        if marked and all("dat" not in cases[e] for e in others):
            return marked
        return cands

    def _unknown(self, text: str, word: Token) -> str:
        msg = f"Не найден сотрудник «{text}»"
        close = difflib.get_close_matches(word.key, list(self.ix.surnames), n=3, cutoff=0.75)
        near = list(dict.fromkeys(e.short for k in close for e, _ in self.ix.surnames[k]))
        if near:
            return f"{msg}. Может быть, {_or(near)}? Уточните, пожалуйста."
        return f"{msg}. Уточните фамилию, пожалуйста."

    # --- where the mention stands --------------------------------------
    def classify(self, m: Mention) -> None:
        i = m.first
        prev = i - 1
        while prev >= 0 and self.toks[prev].kind == "punct" and self.toks[prev].text in QUOTES:
            prev -= 1
        p = self.tok(prev)
        if (
            p is not None
            and p.kind == "punct"
            and p.text == "."
            and self.is_word(prev - 1)
            and self.adjacent(prev - 1, prev, ".")
            and self.toks[prev - 1].key in _ASIDE_ABBREV
            and (self.toks[prev - 1].text.islower() or self.mode != "mixed")
        ):
            m.context = "aside"
            return
        if p is not None and p.kind == "word" and self.adjacent(prev, i, QUOTES):
            lem = morph.lemmas(p.text) | {p.key}
            if lem & _ASIDE_AFTER and not (p.key == "за" and self._in_control_clause(i)):
                m.context = "aside"
                return
            if (
                p.key in ("с", "со")
                and self.is_word(prev - 1)
                and morph.lemmas(self.toks[prev - 1].text) & _ASIDE_AFTER_WITH
            ):
                m.context = "aside"
                return
        if self._consumer_after(m):
            m.context = "aside"
            return
        if self._in_control_clause(i):
            m.context = "control"
        self._labels(m)

    def _in_control_clause(self, i: int) -> bool:
        """«Контроль: Ахметов Н.К.», «Контроль за Ахметовым»: who watches, named last."""
        return any(
            t.kind == "word" and (t.key.startswith("контрол") or t.key.startswith("бакылау"))
            for t in self.toks[self.clause_start(i) : i]
        )

    def _consumer_after(self, m: Mention) -> bool:
        """«Иванову С.П. (заявителю)»: the consumer, not the executor."""
        k = m.last + 1
        while self.tok(k) is not None and self.toks[k].kind == "punct" and self.toks[k].text in "(,—–-":
            k += 1
        t = self.tok(k)
        return (
            t is not None and t.kind == "word" and k <= m.last + 2 and bool(morph.lemmas(t.text) & _CONSUMERS)
        )

    def _labels(self, m: Mention) -> None:
        """«Исполнитель:», «Отв.», «(отв.)» around a name: removed from the
        instruction; «отв.» makes that person the responsible one."""
        k = m.first - 1
        first_label = None
        while k >= 0:
            t = self.toks[k]
            if t.kind == "punct" and t.text in ".:—–-":
                k -= 1
                continue
            if (
                t.kind == "word"
                and t.key in ("с", "со")
                and self.is_word(k - 1)
                and self.toks[k - 1].key in ("совместно", "вместе")
                and self.adjacent(k - 1, k)
                and self.adjacent(k, k + 1)
            ):
                first_label = k - 1
                break
            if (
                t.kind == "word"
                and t.key in _LABELS
                and self.text[t.end : self.toks[k + 1].start].find("\n") < 0
            ):
                first_label = k
                if t.key.startswith("отв"):
                    m.responsible = True
                k -= 1
                continue
            break
        if first_label is not None:
            m.remove.append((self.toks[first_label].start, m.start))
        k = m.last + 1
        t = self.tok(k)
        opened = t is not None and t.kind == "punct" and t.text in "(—–-,"
        j = k + 1 if opened else k
        w = self.tok(j)
        if w is not None and w.kind == "word" and w.key in _RESPONSIBLE and opened:
            end = j
            while (
                self.tok(end + 1) is not None
                and self.toks[end + 1].kind == "punct"
                and self.toks[end + 1].text in ".)"
            ):
                end += 1
                if self.toks[end].text == ")":
                    break
            m.responsible = True
            m.remove.append((self.toks[m.last].end, self.toks[end].end))


def _initials_fit(e: Entry, letters: tuple[str, ...]) -> bool:
    mine = e.initials
    if not mine or not letters:
        return False
    if letters[0] != mine[0]:
        return False
    return len(letters) < 2 or len(mine) < 2 or letters[1] == mine[1]


def _or(names) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " или " + names[-1]


def _ambiguous(text: str, entries) -> str:
    shown = [e.short for e in entries]
    if len(set(shown)) < len(shown):
        shown = [f"{e.full} <{e.person.email}>" for e in entries]
    return f"«{text}» — это {_or(shown)}? Уточните, пожалуйста."


def find(text: str, tokens: list[Token], index: Index, mode: str) -> list[Mention]:
    return _Finder(text, tokens, index, mode).find()
