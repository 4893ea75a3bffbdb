"""Kazakh-filled forms for `corpusgen.py --kazakh [SHARE]`.

    python tests/corpusgen.py OUT_DIR --kazakh [--n 60] [--seed 7]          # every person in Kazakh
    python tests/corpusgen.py OUT_DIR --kazakh 0.3 [--n 60] [--seed 7]      # about a third

The same plan as the default corpus (the same forms, fonts, scans, letters),
but a share of the people who fill a form, write in the Book or on the
website write in Kazakh: names in Kazakh spelling (Ә Ғ Қ Ң Ө Ұ Ү Һ І), the
patronymic as the father's name with -ұлы / -қызы, the address as Kazakh
writes it («Есіл ауданы, Явленка ауылы, Абай көшесі, 12 үй, 5 пәтер»). The
choice of who writes in Kazakh is made from the seed and the message's
number alone, so a seed read with `--kazakh` and without it differs only in
those people: the same seed in Russian is the comparison.

The names and settlements are corpusgen_free's Kazakh ones (one list of them
for both generators) and a few more here that carry the letters those lack
(Ң, Һ). Truth: the name and the address as written, Kazakh letters kept;
`"filled": "kk"` on the messages whose person writes in Kazakh.
"""

from __future__ import annotations

import random

import corpusgen as cg
import corpusgen_free as free

# Kazakh names with the letters the free generator's lists lack or seldom use
MORE_MALE = ["Аңсар", "Мыңжасар", "Тәңірберген", "Шаһмардан", "Ілияс", "Өмірзақ", "Үмбетәлі"]
MORE_FEMALE = ["Жаңыл", "Айкөркем", "Шаһизада", "Іңкәр", "Үміт", "Гүлназ", "Өркен"]
MORE_SURNAMES = ["Мыңбаев", "Теңізбаев", "Жаңабаев", "Шаһанов", "Үсенов", "Өтепов", "Ілиясов", "Әуезов"]
MORE_FATHERS = ["Аңсар", "Мыңжасар", "Өмірзақ", "Шаһмардан", "Ілияс"]

SURNAMES = free.KZ_KZ_SURNAMES + MORE_SURNAMES
MALE = free.KZ_KZ_MALE + MORE_MALE
FEMALE = free.KZ_KZ_FEMALE + MORE_FEMALE
FATHERS = free.KZ_FATHERS + MORE_FATHERS


def wanted(seed: int, idx: int, share: float) -> bool:
    """Does message `idx` of a seed's corpus come filled in Kazakh? Its own
    random stream, so the plan and every other message stay as without it."""
    return share > 0 and random.Random(f"{seed}-{idx}-kk").random() < share


def make_person(rng: random.Random) -> cg.Person:
    """A person who fills the form in Kazakh (as corpusgen.make_person does in Russian)."""
    female = rng.random() < 0.5
    last = rng.choice(SURNAMES)
    if female:
        last = free.feminine_surname(last)
    first = rng.choice(FEMALE if female else MALE)
    patr = rng.choice(FATHERS) + ("қызы" if female else "ұлы") if rng.random() < 0.93 else None
    phone = "+7" + rng.choice(cg.MOBILE) + f"{rng.randint(0, 9999999):07d}"
    email = None
    if rng.random() < 0.55:
        base = rng.choice(["kz", "mail", "user", "a.", "info", "n_", "zh"])
        email = f"{base}{rng.randint(10, 9999)}@{rng.choice(cg.DOMAINS)}"
    return cg.Person(last, first, patr, free.kk_address(rng), phone, email, female)
