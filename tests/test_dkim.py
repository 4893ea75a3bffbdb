"""DKIM verified by mailflow itself (routing.toml `verify_dkim`): the DNS answers are
injected, the signatures are real (dkimpy signs with keys made here)."""

from __future__ import annotations

import base64
import shutil
import subprocess

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailflow import signatures
from mailflow.authentication import verdict
from mailflow.rules import load as load_rules_from
from tests.support import DIRECTOR, REPO, Office, text_appeal

NONE: frozenset[str] = frozenset()


class Keys:
    """Signing keys by (selector, domain) and the TXT records DNS would answer."""

    def __init__(self) -> None:
        self.private: dict[tuple[str, str], bytes] = {}
        self.txt: dict[str, bytes] = {}
        self.lookups: list[str] = []

    def make(self, selector: str, domain: str, bits: int = 2048) -> None:
        if bits < 1024:  # cryptography will not make one; OpenSSL still does
            pem = subprocess.run(
                ["openssl", "genrsa", "-traditional", str(bits)], capture_output=True, check=True
            )
            key = serialization.load_pem_private_key(pem.stdout, password=None)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.private[(selector, domain)] = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.txt[f"{selector}._domainkey.{domain}."] = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)

    def sign(self, raw: bytes, selector: str, domain: str, signing_domain: str | None = None) -> bytes:
        key = self.private[(selector, domain)]
        d = (signing_domain or domain).encode()
        sig = dkim.sign(raw, selector.encode(), d, key, include_headers=[b"from", b"to", b"subject", b"date"])
        return sig + raw

    def dns(self, name: bytes | str, timeout: int = 5) -> bytes | None:
        name = name.decode() if isinstance(name, bytes) else name
        self.lookups.append(name)
        return self.txt.get(name.lower())


@pytest.fixture(scope="module")
def keys() -> Keys:
    k = Keys()
    k.make("mail", "sevkaz.example")
    k.make("mail", "evil.example")
    k.make("mail", "mail.sevkaz.example")
    return k


def _letter(frm: str = DIRECTOR, body: str = "Сидоренко — рассмотреть.") -> bytes:
    return text_appeal(frm=frm, subject="Re: на резолюцию", body=body)


def test_a_real_signature_of_the_senders_domain_is_believed(keys):
    signed = keys.sign(_letter(), "mail", "sevkaz.example")
    assert signatures.verified_domains(signed, keys.dns) == ("sevkaz.example",)
    assert verdict((), DIRECTOR, NONE, ("sevkaz.example",)) is None
    assert "mail._domainkey.sevkaz.example." in keys.lookups


@pytest.mark.parametrize(
    "attack",
    [
        "body edited after signing",
        "From changed after signing",
        "a second From above the signed one",
        "signed by the attacker's own domain",
        "signed by a sub-domain, not the sender's",
        "no signature",
        "DNS has no key",
        "the key was revoked (empty p=)",
        "DNS fails",
        pytest.param("a 512-bit key", marks=pytest.mark.integration),  # OpenSSL as a process
        "a look-alike domain in From (KELVIN SIGN)",
    ],
)
def test_anything_else_is_refused(keys, attack):
    raw, dns = _letter(), keys.dns
    if attack == "body edited after signing":
        raw = keys.sign(raw, "mail", "sevkaz.example")
        raw = raw.rstrip(b"\n") + b"\n\xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2\xd1\x83 too.\n"
    elif attack == "From changed after signing":
        raw = keys.sign(_letter(frm="ivanov@sevkaz.example"), "mail", "sevkaz.example")
        raw = raw.replace(b"From: ivanov@sevkaz.example", f"From: {DIRECTOR}".encode())
    elif attack == "a second From above the signed one":
        raw = (
            b"From: "
            + DIRECTOR.encode()
            + b"\n"
            + keys.sign(_letter(frm="x@sevkaz.example"), "mail", "sevkaz.example")
        )
    elif attack == "signed by the attacker's own domain":
        raw = keys.sign(raw, "mail", "evil.example")
    elif attack == "signed by a sub-domain, not the sender's":
        raw = keys.sign(raw, "mail", "mail.sevkaz.example")
    elif attack == "DNS has no key":
        raw = keys.sign(raw, "mail", "sevkaz.example")
        dns = lambda name, timeout=5: None  # noqa: E731
    elif attack == "the key was revoked (empty p=)":
        raw = keys.sign(raw, "mail", "sevkaz.example")
        dns = lambda name, timeout=5: b"v=DKIM1; k=rsa; p="  # noqa: E731
    elif attack == "DNS fails":
        raw = keys.sign(raw, "mail", "sevkaz.example")

        def dns(name, timeout=5):
            raise dkim.DnsTimeoutError("timeout")

    elif attack == "a 512-bit key":
        weak = Keys()
        weak.make("mail", "sevkaz.example", bits=512)
        raw, dns = weak.sign(raw, "mail", "sevkaz.example"), weak.dns
    elif attack == "a look-alike domain in From (KELVIN SIGN)":
        lookalike = "director@sev\u212aaz.example"
        msg = _letter().replace(f"From: {DIRECTOR}".encode(), f"From: {lookalike}".encode())
        raw = keys.sign(msg, "mail", "sevkaz.example")
        assert signatures.verified_domains(raw, dns) == ("sevkaz.example",)  # the signature itself is fine
        assert verdict((), lookalike, NONE, ("sevkaz.example",)) is not None
        return
    domains = signatures.verified_domains(raw, dns)
    assert "sevkaz.example" not in domains, attack
    why = verdict((), DIRECTOR, NONE, domains)
    assert why is not None and "DKIM" in why


def test_case_of_the_signing_domain_does_not_matter(keys):
    signed = keys.sign(_letter(), "mail", "sevkaz.example", signing_domain="SevKaz.Example")
    assert signatures.verified_domains(signed, keys.dns) == ("sevkaz.example",)


def test_our_own_check_and_our_servers_stamp_each_suffice():
    ours = frozenset({"mx.sevkaz.example"})
    stamp = ("mx.sevkaz.example; dkim=pass header.d=sevkaz.example",)
    assert verdict((), DIRECTOR, ours, ("sevkaz.example",)) is None  # our check, no stamp
    assert verdict(stamp, DIRECTOR, ours, ()) is None  # the stamp, our check found nothing
    assert verdict((), DIRECTOR, ours, ()) is not None
    assert verdict((), DIRECTOR, NONE, None) is None  # nothing configured: nothing checked


def _verifying_rules(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    f = rules_dir / "routing.toml"
    f.write_text(f.read_text().replace("verify_dkim = false", "verify_dkim = true"))
    return load_rules_from(rules_dir)


@pytest.mark.parametrize("signer", ["sevkaz.example", "evil.example", None])
def test_a_directors_resolution_needs_a_signature_of_his_domain(tmp_path, keys, signer):
    office = Office(tmp_path / "home", _verifying_rules(tmp_path), dkim_dns=keys.dns)
    raw = office.reply("Сидоренко — рассмотреть.")
    if signer:
        raw = keys.sign(raw, "mail", signer)
    [o] = office.send(raw)
    assert o.status == ("resolution" if signer == "sevkaz.example" else "refused"), o


def test_a_misspelt_key_is_refused(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    f = rules_dir / "routing.toml"
    f.write_text(f.read_text().replace("verify_dkim = false", "verify_dkm = true"))
    with pytest.raises(Exception, match="authentication.verify_dkm"):
        load_rules_from(rules_dir)
