"""Who really sent a message: our own border server's Authentication-Results.

Anyone can write an `Authentication-Results` header, with any server's name
in it (RFC 8601 §7.2). What counts is what our own servers put on top: the
topmost headers whose authserv-id is one of `trusted` (routing.toml
`trusted_authserv_ids`), up to the first that is not (RFC 8601 §5); what
is below came with the message and is never read. With trusted ids
configured, a message whose topmost header is not ours, or cannot be
parsed, is refused (fail closed). DKIM must pass for the From domain
exactly (`header.d`), or SPF for it (`smtp.mailfrom`); a result of ours
that says otherwise for that domain vetoes a "pass" beside it (a forged
header written with our id and sitting right below ours).

Parsing is `authres`' (comments, quoted values and versions included) —
the hand-written parser this replaces split on the `;` inside OpenDKIM's
"(2048-bit key; unprotected)" comment.

Where mailflow verifies DKIM itself (`signatures`), a signature that verified
for the From domain exactly is enough; with no trusted ids, nothing else is.
"""

from __future__ import annotations

import itertools
import logging

import authres

log = logging.getLogger("mailflow.authentication")


def authserv_id(value: str) -> str:
    """The authserv-id of one header value, cheaply (before parsing it whole)."""
    head = value.split(";", 1)[0].strip()
    return head.split()[0].lower() if head else ""


def verdict(
    headers: tuple[str, ...],
    from_addr: str,
    trusted: frozenset[str],
    dkim_verified: tuple[str, ...] | None = None,
) -> str | None:
    """None when the sender is authenticated (or nothing is configured); else why not, in Russian.

    `headers`: the raw Authentication-Results values, topmost (newest) first.
    `dkim_verified`: the domains whose DKIM signature mailflow verified itself
    (`signatures`), or None where it does not (routing.toml `verify_dkim`).
    """
    domain = _domain(from_addr)
    # a look-alike (KELVIN SIGN) lowers to ASCII: only an address that was ASCII to begin with
    if dkim_verified is not None and from_addr.isascii() and domain in dkim_verified:
        return None
    if not trusted:
        if dkim_verified is None:
            return None
        return f"подпись DKIM домена {domain or 'отправителя'} не подтверждена: подлинность не подтверждена"
    ours = list(itertools.takewhile(lambda h: authserv_id(h) in trusted, headers))
    if not ours:
        return "на письме нет отметки нашего почтового сервера (Authentication-Results): подлинность не подтверждена"
    results = []
    for value in ours:
        try:
            results += authres.AuthenticationResultsHeader.parse_value(value).results
        except Exception as exc:  # authres raises its own family of syntax errors
            log.warning("unparseable Authentication-Results from a trusted server: %s", exc)
            return "отметку нашего почтового сервера (Authentication-Results) не удалось разобрать"
    for method, key in (("dkim", ("header", "d")), ("spf", ("smtp", "mailfrom"))):
        passed = vetoed = False
        for r in results:
            if str(r.method).lower() != method:
                continue
            props = {(str(p.type).lower(), str(p.name).lower()): str(p.value) for p in r.properties}
            about = _domain(props.get(key, ""))
            if str(r.result).lower() == "pass":
                passed = passed or (bool(domain) and about == domain)
            elif about in ("", domain):
                vetoed = True  # our server said no for this domain: a "pass" beside it was not ours
        if passed and not vetoed:
            return None
    return f"подлинность отправителя не подтверждена (DKIM/SPF не пройдены для {domain or 'домена'})"


def _domain(value: str) -> str:
    """The domain of an address or a bare domain, lower case, without a trailing dot."""
    return value.rsplit("@", 1)[-1].strip().strip('"').rstrip(".").lower()
