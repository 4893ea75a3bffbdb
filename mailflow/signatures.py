"""DKIM signatures checked by mailflow itself, where no border server stamps them.

`authentication` believes our own server's Authentication-Results; where the
organisation has no such server but the machine can ask DNS, routing.toml
`[authentication] verify_dkim = true` has mailflow verify each DKIM-Signature
itself (`dkimpy`: canonicalisation, body hashes, key lookup, RSA and
Ed25519, minimum key sizes are its job, not hand-written here). What comes
out is only the list of domains whose signature verified; `authentication`
decides what that means for the From address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dkim

log = logging.getLogger("mailflow.signatures")

DnsTxt = Callable[..., bytes | None]  # dkimpy's dnsfunc: a TXT record's text for a name, or None
MAX_SIGNATURES = 5  # a message carrying more is not worth more DNS lookups


def verified_domains(raw: bytes, dns: DnsTxt | None = None) -> tuple[str, ...]:
    """The d= domains (lower case) of the DKIM signatures on `raw` that verify.

    `dns`: the TXT lookup (tests inject the answers); None asks DNS through dnspython.
    A broken signature, a missing key or a DNS failure verifies nothing.
    """
    try:
        checker = dkim.DKIM(raw, logger=log)
        names = [name.lower() for name, _ in checker.headers]
    except Exception as exc:  # an unparseable message carries no verifiable signature
        log.info("DKIM: message not checked: %s", exc)
        return ()
    if names.count(b"from") != 1:  # a second From added above a signed one is what people would read
        log.info("DKIM: %d From headers: nothing verified", names.count(b"from"))
        return ()
    domains: list[str] = []
    for idx in range(min(names.count(b"dkim-signature"), MAX_SIGNATURES)):
        try:
            ok = checker.verify(idx=idx, dnsfunc=dns) if dns is not None else checker.verify(idx=idx)
        except Exception as exc:  # dkimpy raises for malformed tags and DNS errors alike
            log.info("DKIM signature %d not verified: %s", idx, exc)
            continue
        if ok and checker.domain:
            domains.append(checker.domain.decode("ascii", "replace").rstrip(".").lower())
        elif not ok:
            log.info("DKIM signature %d of %s did not verify", idx, checker.domain)
    return tuple(dict.fromkeys(domains))
