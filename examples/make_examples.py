"""Write the sample messages that `make demo` feeds to mailflow.

    python examples/make_examples.py [OUT_DIR]      (default: examples/)

Four messages, made by the test corpus generator (tests/corpusgen.py) with a
fixed seed, so the files only change when the generator does:

  01-res-complaint.eml      a RES chief sends a consumer's complaint form
                            (Appendix 2, "ЖАЛОБА" underlined) as an image-only PDF
  02-book-entry.eml         the chancellery clerk forwards a Book-of-reviews
                            entry (Appendix 3 form, "ПРЕДЛОЖЕНИЕ") as a JPEG
  03-website-form.eml       the website's feedback form (Reply-To: the consumer)
  04-organisation-letter.eml  an organisation's claim ("Исх. № … от …"), PDF

Scans are 150-200 dpi JPEG-compressed, so each file stays under 300 KB.
"""
from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import corpusgen  # noqa: E402

SEED = 20260315


def _person(rng: random.Random, **kw) -> corpusgen.Person:
    p = corpusgen.make_person(rng)
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def cases() -> list[tuple[str, corpusgen.Case]]:
    rng = random.Random(SEED)
    C = corpusgen.Case
    complaint = C(doc="form", sender="esil-res@sevkaz.example", kind="жалоба", fmt="pdf", dpi=200,
                  family="DejaVu Serif", skew=1.2, blur=0.4, noise=0, body_style=0,
                  charset="windows-1251",
                  person=_person(rng, last_name="Ахметова", first_name="Сауле",
                                 patronymic="Маратовна", female=True,
                                 address="г. Мамлютка, ул. Пушкина, д. 125",
                                 phone="+77023401815", email=None))
    book = C(doc="form", sender=corpusgen.CLERK, kind="предложение", fmt="jpeg", dpi=150,
             family="DejaVu Sans", skew=-0.8, noise=0, pen=True, meta={"book": True},
             person=_person(rng, last_name="Иванова", first_name="Татьяна",
                            patronymic="Болатовна", female=True,
                            address="с. Явленка, ул. Пушкина, д. 106, кв. 46",
                            phone="+77474541078", email="kz5435@mail.example"))
    website = C(doc="website", sender=corpusgen.WEBSITE, kind="предложение", fmt="none",
                person=_person(rng, last_name="Кузнецов", first_name="Николай",
                               patronymic="Иванович", female=False,
                               address="г. Булаево, ул. Назарбаева, д. 138, кв. 86",
                               phone="+77013581897", email="mail7057@mail.example"))
    letter = C(doc="letter", sender="office23@client.example", kind="претензия", fmt="pdf",
               dpi=200, family="DejaVu Serif", skew=-0.6, noise=0,
               org=corpusgen.Org("ТОО", "Агрофирма Береке", "141/02", dt.date(2026, 4, 21),
                                 "+77021588258", "Петропавловск", None))
    return [("01-res-complaint", complaint), ("02-book-entry", book),
            ("03-website-form", website), ("04-organisation-letter", letter)]


def main(out_dir: str | None = None) -> int:
    out = Path(out_dir) if out_dir else HERE
    out.mkdir(parents=True, exist_ok=True)
    for i, (name, case) in enumerate(cases()):
        raw, truth, _ = corpusgen.build(case, i, random.Random(f"{SEED}-{i}"), dt.date(2026, 4, 6))
        (out / f"{name}.eml").write_bytes(raw)
        print(f"{name}.eml  {len(raw) // 1024} KB  {truth['channel']}, {truth['kind']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
