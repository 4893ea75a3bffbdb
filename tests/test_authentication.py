"""Which Authentication-Results count, and whose address is whose: the attack's variants."""

from __future__ import annotations

import pytest

from mailflow.authentication import verdict
from mailflow.rules import address_key
from tests.support import load_rules

OURS = frozenset({"mx.sevkaz.example"})
FROM = "director@sevkaz.example"
OPENDKIM = (
    "mx.sevkaz.example; dkim=pass (2048-bit key; unprotected) header.d=sevkaz.example "
    "header.i=@sevkaz.example header.a=rsa-sha256 header.s=mail header.b=AbCdEf12"
)


@pytest.mark.parametrize(
    "headers",
    [
        (OPENDKIM,),  # a real OpenDKIM header: the ";" inside the comment is not a separator
        ("mx.sevkaz.example; spf=pass smtp.mailfrom=director@sevkaz.example",),
        ("mx.sevkaz.example; spf=pass smtp.mailfrom=sevkaz.example",),
        ("MX.Sevkaz.Example; DKIM=Pass header.d=SevKaz.Example",),  # case does not matter
        ("mx.sevkaz.example 1; dkim=pass header.d=sevkaz.example",),  # a version number
        ('mx.sevkaz.example; dkim=pass header.d="sevkaz.example"',),  # a quoted value
        (  # several stamps of ours (OpenDKIM, then OpenDMARC), and what came with the message below
            "mx.sevkaz.example; dmarc=pass header.from=sevkaz.example",
            OPENDKIM,
            "evil.example; dkim=fail header.d=sevkaz.example",
        ),
        (  # a second, failing signature of another domain (a list's) does not spoil ours
            "mx.sevkaz.example; dkim=pass header.d=sevkaz.example; dkim=fail header.d=lists.example",
        ),
    ],
)
def test_our_servers_pass_is_believed(headers):
    assert verdict(headers, FROM, OURS) is None


@pytest.mark.parametrize(
    "headers, why",
    [
        ((), "our server's stamp is missing (fail closed)"),
        (("evil.example; dkim=pass header.d=sevkaz.example",), "another server's word"),
        (
            ("evil.example; none", "mx.sevkaz.example; dkim=pass header.d=sevkaz.example"),
            "our id below a header that is not ours: it came with the message",
        ),
        (
            (
                "mx.sevkaz.example; dkim=fail header.d=sevkaz.example; spf=fail smtp.mailfrom=sevkaz.example",
                "mx.sevkaz.example; dkim=pass header.d=sevkaz.example",
            ),
            "a forged pass right below our fail",
        ),
        (
            (
                "mx.sevkaz.example; dkim=none; spf=softfail smtp.mailfrom=sevkaz.example",
                "mx.sevkaz.example; dkim=pass header.d=sevkaz.example; spf=pass smtp.mailfrom=sevkaz.example",
            ),
            "a forged pass right below our none",
        ),
        (("mx.sevkaz.example; dkim=pass header.d=evil.example",), "signed by another domain"),
        (("mx.sevkaz.example; dkim=pass header.d=example",), "a parent domain is not the sender's"),
        (("mx.sevkaz.example; dkim=pass header.d=mail.sevkaz.example",), "a subdomain is not exact"),
        (("mx.sevkaz.example; dkim=pass header.d=sevkaz.example.evil.example",), "a suffix trick"),
        (("mx.sevkaz.example; spf=pass smtp.mailfrom=bounce@evil.example",), "SPF for another domain"),
        (("mx.sevkaz.example; dkim=neutral header.d=sevkaz.example",), "neutral is not pass"),
        (("mx.sevkaz.example; dkim=fail header.d=sevkaz.example",), "fail"),
        (("mx.sevkaz.example.evil.example; dkim=pass header.d=sevkaz.example",), "a look-alike id"),
        (("mx.sevkaz.example; dkim=pass header.d=sevkaz.example (",), "unparseable"),
        (("mx.sevkaz.example; header.d=sevkaz.example dkim=pass",), "properties before the method"),
        (("mx.sevkaz.example; dkim=pass header.d=ѕevkaz.example",), "a Cyrillic ѕ in the domain"),
    ],
)
def test_anything_else_is_refused(headers, why):
    assert verdict(headers, FROM, OURS) is not None, why


def test_nothing_is_checked_where_nothing_is_configured():
    assert verdict((), FROM, frozenset()) is None


@pytest.mark.parametrize(
    "address",
    [
        "director@sevkaz.exampl\u212a",  # KELVIN SIGN lower-cases to "k"
        "director@sevkaz.\u212aexample",
        "dіrector@sevkaz.example",  # Cyrillic і
        "director@sevkaz.example\u200b",  # zero-width space
        "ｄirector@sevkaz.example",  # full-width
        "director@SEVKAZ.EXAMPLE\u0130",  # dotted capital I
    ],
)
def test_unicode_look_alikes_are_not_staff(address):
    assert load_rules().staff.by_email(address) is None
    assert address_key(address) is None


@pytest.mark.parametrize(
    "address", ["Director@Sevkaz.Example", " director@sevkaz.example ", "DIRECTOR@SEVKAZ.EXAMPLE"]
)
def test_ascii_case_and_spaces_do_not_matter(address):
    person = load_rules().staff.by_email(address)
    assert person is not None and person.email == "director@sevkaz.example"
