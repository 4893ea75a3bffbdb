"""The workplace as an ASGI application (FastAPI, Jinja2 templates, plain forms).

Built by `create_app(Web(...))` from the composition root (`mailflow web`).
Every request finds its person from the session cookie; every change needs
the session's CSRF token (a form's hidden field, or the `X-CSRF-Token`
header the API sends from the `csrftoken` cookie) and goes through
`mailflow.services`, which writes the hash-chained event naming the person.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from .. import dashboard, digest, digest_render, export, services, status
from ..archive import Archive
from ..case.search import Filter
from ..case.states import State
from ..config import Config, is_loopback
from ..queues import Queue, Queues
from ..rules import Rules
from ..values import CONSUMER_FIELDS, KZ_TZ
from ..vocabulary import CHANNELS, FIELD_LABELS, GROUPS, KINDS, channel_label
from . import acts, cases, filters, pages, signin, tokens

log = logging.getLogger("mailflow.web")
HERE = Path(__file__).parent
SESSION, CSRF = "mf_session", "csrftoken"
SSO_SESSION = "mailflow.sso_session"  # the session single sign-on just started, for this request
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 25 * 1024 * 1024  # a scanned copy of an answer; more is refused, not truncated


@dataclass(frozen=True)
class Web:
    engine: sa.Engine
    rules: Rules
    services: services.Services
    archive: Archive
    cache: Path  # rendered page images
    talons: Path  # printed talons, as `mailflow talon` writes them
    talon_font: Path | None
    queues: Queues
    cfg: Config
    sender_addr: str
    base_url: str  # as people reach it (behind the TLS proxy: https://…)
    flush: Callable[[], object]  # send what the outbox holds now (the sign-in link)

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Unsigned(Exception):
    pass


class _Forbidden(Exception):
    pass


class _BadCsrf(Exception):
    pass


def create_app(web: Web) -> FastAPI:
    app = FastAPI(title="mailflow", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(
        channel_label=channel_label,
        labels=FIELD_LABELS,
        kinds=[k.key for k in KINDS],
        groups=GROUPS,
        channels=CHANNELS,
        tz=KZ_TZ,
        stage_titles={k: st.title for k, st in web.rules.workflow.stages.items()},
    )

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def who(request: Request) -> signin.Signed:
        auth = request.headers.get("authorization", "")
        if auth:  # a script's API token; a wrong one is refused, never a fall-back to the cookie
            scheme, _, token = auth.partition(" ")
            found = (
                tokens.bearer(web.engine, web.rules, token.strip(), now=_now())
                if scheme.lower() == "bearer"
                else None
            )
        else:
            cookie = request.scope.get(SSO_SESSION) or request.cookies.get(SESSION)
            found = signin.signed(web.engine, web.rules, cookie, now=_now())
        if found is None:
            raise _Unsigned()
        return found

    def check_csrf(request: Request, signed: signin.Signed, sent: str | None) -> None:
        if signed.by_token:
            return  # a header no other site's page can make a browser send
        if not sent or not secrets.compare_digest(sent, signed.csrf):
            raise _BadCsrf()

    def is_api(request: Request) -> bool:
        return request.url.path.startswith(("/api/", "/pages/", "/crops/"))  # no sign-in form for these

    @app.exception_handler(_Unsigned)
    async def unsigned(request: Request, exc: _Unsigned) -> Response:
        if is_api(request):
            return JSONResponse({"error": "нужно войти"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(_BadCsrf)
    async def bad_csrf(request: Request, exc: _BadCsrf) -> Response:
        msg = "запрос без действительного CSRF-токена: обновите страницу"
        if is_api(request):
            return JSONResponse({"error": msg}, status_code=403)
        return HTMLResponse(msg, status_code=403)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # sign-in links stay out of logs
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.middleware("http")
    async def remote_user(request: Request, call_next: Any) -> Response:
        """Single sign-on: the person a trusted proxy names in `[web] remote_user_header`
        gets a session as if they had followed a sign-in link (cookies, CSRF token and
        all); the header from any other peer is ignored. The peer is the TCP
        connection's (uvicorn runs without proxy_headers), never X-Forwarded-For."""
        header = web.cfg.web.remote_user_header
        named = request.headers.get(header, "").strip() if header else ""
        if not named or "authorization" in request.headers:
            return await call_next(request)
        peer = request.client.host if request.client else None
        if not web.cfg.web.trusts(peer):
            log.warning("%s from %s, not a trusted proxy: ignored", header, peer)
            return await call_next(request)
        now = _now()
        current = await run_in_threadpool(
            signin.signed, web.engine, web.rules, request.cookies.get(SESSION), now=now
        )
        person = web.rules.staff.by_email(named)
        if person is None or (current is not None and current.email == person.email):
            return await call_next(request)  # a stranger signs in no other way; or already signed in
        got = await run_in_threadpool(signin.remote, web.engine, web.rules, person.email, now=now)
        if got is None:
            return await call_next(request)
        session_token, csrf = got
        request.scope[SSO_SESSION] = session_token
        response: Response = await call_next(request)
        set_session(response, session_token, csrf)
        return response

    def set_session(response: Response, session_token: str, csrf: str) -> None:
        age = web.rules.access.session_hours * 3600
        response.set_cookie(
            SESSION, session_token, max_age=age, httponly=True, secure=web.secure, samesite="strict"
        )
        response.set_cookie(CSRF, csrf, max_age=age, httponly=False, secure=web.secure, samesite="strict")

    # -- sign-in ------------------------------------------------------------

    def ask_link(address: str, tasks: BackgroundTasks) -> None:
        if signin.request_link(
            web.engine,
            web.rules,
            address.strip(),
            base_url=web.base_url,
            sender_addr=web.sender_addr,
            now=_now(),
        ):
            tasks.add_task(web.flush)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login", response_class=HTMLResponse)
    async def login_post(request: Request, tasks: BackgroundTasks) -> Response:
        form = await request.form()
        address = str(form.get("email") or "")
        if "@" not in address or len(address) > 320:
            return page(request, "login.html", 400, error="Введите адрес электронной почты.", email=address)
        ask_link(address, tasks)
        return page(request, "login_sent.html", email=address)

    @app.post("/api/login", status_code=202)
    async def api_login(request: Request, tasks: BackgroundTasks) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        address = body.get("email") if isinstance(body, dict) else None
        if not isinstance(address, str) or "@" not in address or len(address) > 320:
            return JSONResponse({"error": 'ожидается {"email": адрес}', "field": "email"}, status_code=400)
        ask_link(address, tasks)
        # the same answer whether or not the address may sign in
        return JSONResponse({"status": "если адрес есть в справочнике, ссылка отправлена"}, status_code=202)

    @app.get("/login/{token}")
    def login_link(request: Request, token: str) -> Response:
        got = signin.redeem(web.engine, web.rules, token, now=_now())
        if got is None:
            return page(
                request,
                "login.html",
                400,
                error="Ссылка для входа недействительна: она устарела или уже использована. Запросите новую.",
            )
        session_token, csrf = got
        if request.headers.get("sec-fetch-site", "none") in ("none", "same-origin"):
            response: Response = RedirectResponse("/", status_code=303)
        else:
            # followed from a mail client's page: a SameSite=Strict cookie is not sent on a
            # cross-site redirect, so the journal is opened from our own page instead
            response = page(request, "signed_in.html")
        set_session(response, session_token, csrf)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        signed = who(request)
        form = await request.form()
        check_csrf(request, signed, str(form.get("csrf") or ""))
        signin.end(web.engine, request.cookies.get(SESSION), now=_now())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION)
        response.delete_cookie(CSRF)
        return response

    # -- the journal --------------------------------------------------------

    def filter_of(request: Request) -> tuple[Filter, int]:
        p = request.query_params
        return filters.parse(
            p, p.getlist("number"), now=_now(), unproven_hours=web.rules.routing.unproven_after_hours
        )

    @app.get("/", response_class=HTMLResponse)
    def journal_page(request: Request) -> Response:
        signed = who(request)
        f, n = filter_of(request)
        with Session(web.engine) as s:
            found = cases.listing(s, web.rules, signed, f, n)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        return page(
            request,
            "journal.html",
            me=signed,
            f=f,
            found=found,
            query=urlencode(query),
            states=list(State),
            stages=list(web.rules.workflow.stages),
        )

    @app.get("/api/cases")
    def api_cases(request: Request) -> Response:
        signed = who(request)
        f, n = filter_of(request)
        with Session(web.engine) as s:
            found = cases.listing(s, web.rules, signed, f, n)
            items = cases.api_records(s, [r.doc for r in found.rows])
        return JSONResponse(
            {
                "items": items,
                "total": found.total,
                "more": found.more,
                "page": found.page,
                "pages": found.pages,
            }
        )

    def attachment_name(ext: str) -> str:
        return f"journal-{dt.datetime.now(KZ_TZ):%Y-%m-%d-%H%M}.{ext}"

    @app.get("/api/cases.csv")
    def api_cases_csv(request: Request) -> Response:
        """The current filter's cases as CSV for Excel: UTF-8 with BOM, «;», streamed."""
        signed = who(request)
        f, _ = filter_of(request)
        chunks = export.csv_chunks(cases.exported(web.engine, web.rules, signed, f), delimiter=";", bom=True)
        return StreamingResponse(
            (c.encode("utf-8") for c in chunks),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{attachment_name("csv")}"'},
        )

    @app.get("/api/cases.xlsx")
    def api_cases_xlsx(request: Request) -> Response:
        """The current filter's cases as an Excel workbook, streamed (mailflow.xlsx_stream)."""
        signed = who(request)
        f, _ = filter_of(request)
        return StreamingResponse(
            export.xlsx_chunks(cases.exported(web.engine, web.rules, signed, f)),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{attachment_name("xlsx")}"'},
        )

    # -- the card -----------------------------------------------------------

    def card(
        request: Request, signed: signin.Signed, number: str, status: int = 200, **extra: Any
    ) -> Response:
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
            if doc is None:
                return page(request, "missing.html", 404, me=signed, number=number)
            rec = cases.api_record(s, doc)
            context = dict(
                me=signed,
                doc=doc,
                rec=rec,
                pages=cases.pages(s, doc),
                events=cases.history(s, doc),
                may_correct="correct" in signed.rights.may,
                state_label=State(doc.status).label,
                confidence=_json(doc.confidence),
                evidence=_json(doc.evidence),
                crops={f: cases.crop_url(doc.number, f) for f in _json(doc.crops)},
                fields=CONSUMER_FIELDS,
                acts=acts.offered(signed.rights.may, doc),
                signers={a.key: acts.signers(web.rules, a) for a in acts.ACTS if a.signers},
                units=acts.units(web.rules),
                may_print="talon" in signed.rights.may,
            )
        context.update(extra)
        return page(request, "card.html", status, **context)

    @app.get("/cases/{number}", response_class=HTMLResponse)
    def card_page(request: Request, number: str) -> Response:
        done = acts.BY_KEY.get(request.query_params.get("done", ""))
        return card(
            request, who(request), number, saved=request.query_params.get("saved"), done=done and done.done
        )

    async def act_form(request: Request) -> dict[str, acts.Value]:
        """The submitted inputs: text as text, a file as an Upload (bounded)."""
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                raise services.Invalid("body", "тело запроса — не JSON") from None
            if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
                raise services.Invalid("body", "ожидается объект JSON со строками")
            return dict(body)
        form = await request.form(max_part_size=64 * 1024)
        out: dict[str, acts.Value] = {}
        for key, v in form.items():
            if isinstance(v, str):
                out[key] = v
            else:
                data = await v.read(MAX_UPLOAD + 1)
                if len(data) > MAX_UPLOAD:
                    raise services.Invalid(key, f"файл больше {MAX_UPLOAD // 2**20} МБ")
                out[key] = acts.Upload(
                    v.filename or "копия", v.content_type or "application/octet-stream", data
                )
        return out

    def run_act(signed: signin.Signed, number: str, key: str, form: dict[str, acts.Value]) -> None:
        """One card act for `signed`, or services.Refused (NotFound: 404, NotAllowed: 403 …)."""
        act = acts.BY_KEY.get(key)
        if act is None:
            raise services.NotFound(f"нет такого действия: {key}")
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
        if doc is None:
            raise services.NotFound(f"документ {number} не найден")
        if act.right not in signed.rights.may:
            raise services.NotAllowed(f"{signed.email}: нет права «{act.title}»")
        if act not in acts.offered(signed.rights.may, doc):
            raise services.Conflict(f"«{act.title}» сейчас невозможно: дело {State(doc.status).label}")
        acts.perform(web.services, act, number, form, by=signed.email)
        log.info("%s: %s by %s at the workplace", number, key, signed.email)

    @app.post("/cases/{number}/acts/{key}", response_class=HTMLResponse)
    async def card_act(request: Request, number: str, key: str) -> Response:
        signed = who(request)
        try:
            form = await act_form(request)
        except services.Invalid as exc:
            return card(request, signed, number, 400, error=str(exc), open_act=key)
        check_csrf(request, signed, str(form.get("csrf") or ""))
        try:
            run_act(signed, number, key, form)
        except services.Refused as exc:
            typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
            return card(request, signed, number, _status(exc), error=str(exc), open_act=key, act_typed=typed)
        return RedirectResponse(f"/cases/{number}?done={key}", status_code=303)

    @app.post("/api/cases/{number}/acts/{key}")
    async def api_act(request: Request, number: str, key: str) -> Response:
        signed = who(request)
        check_csrf(request, signed, request.headers.get("x-csrf-token"))
        try:
            run_act(signed, number, key, await act_form(request))
        except services.Refused as exc:
            return _refusal(exc)
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
            assert doc is not None
            return JSONResponse(cases.api_record(s, doc))

    @app.post("/cases/{number}/talon.pdf")
    async def talon(request: Request, number: str) -> Response:
        """The printed talon (walk-in applicants without e-mail); each print is an event."""
        signed = who(request)
        form = await request.form(max_part_size=64 * 1024)
        check_csrf(request, signed, str(form.get("csrf") or ""))
        with Session(web.engine) as s:
            if cases.find(s, web.rules, signed, number) is None:
                return page(request, "missing.html", 404, me=signed, number=number)
        if "talon" not in signed.rights.may:
            return card(request, signed, number, 403, error=f"{signed.email}: нет права печатать талоны")
        web.talons.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:  # the number is the journal's own (found above), safe as a file name
            path = web.services.print_talon(
                number, out=web.talons / f"{number}.pdf", font=web.talon_font, by=signed.email
            )
        except services.Refused as exc:
            return card(request, signed, number, _status(exc), error=str(exc))
        return FileResponse(path, media_type="application/pdf", filename=f"талон-{number}.pdf")

    @app.post("/cases/{number}", response_class=HTMLResponse)
    async def card_post(request: Request, number: str) -> Response:
        signed = who(request)
        form = await request.form()
        check_csrf(request, signed, str(form.get("csrf") or ""))
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
            current = cases.api_record(s, doc) if doc else None
        if current is None:
            return card(request, signed, number)
        shown = {**current["consumer"], "kind": current["kind"], "group": current["group"]}
        changed = {
            k: str(form.get(k, ""))
            for k in (*CONSUMER_FIELDS, "kind", "group")
            if k in form and str(form.get(k, "")).strip() != _shown(shown.get(k))
        }
        version = str(form.get("version") or "")
        try:
            web.services.correct(
                number, changed, by=signed.email, version=int(version) if version.isdigit() else None
            )
        except services.Invalid as exc:
            return card(request, signed, number, 400, error=str(exc), bad_field=exc.field, typed=changed)
        except services.Refused as exc:
            return card(request, signed, number, _status(exc), error=str(exc))
        return RedirectResponse(f"/cases/{number}?saved=1", status_code=303)

    @app.get("/api/cases/{number}")
    def api_case(request: Request, number: str) -> Response:
        signed = who(request)
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
            if doc is None:
                return JSONResponse({"error": f"документ {number} не найден"}, status_code=404)
            rec = cases.api_record(s, doc)
            rec["events"] = [
                {"at": e.at.isoformat(), "type": e.type, "data": e.data} for e in cases.history(s, doc)
            ]
            rec["pages"] = [p.url for p in cases.pages(s, doc)]
            for field, crop in rec["crops"].items():
                crop["url"] = cases.crop_url(doc.number, field)
        return JSONResponse(rec)

    @app.patch("/api/cases/{number}")
    async def api_patch(request: Request, number: str) -> Response:
        signed = who(request)
        check_csrf(request, signed, request.headers.get("x-csrf-token"))
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "тело запроса — не JSON"}, status_code=400)
        try:
            values, version = _patch_values(body)
        except services.Invalid as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        with Session(web.engine) as s:
            if cases.find(s, web.rules, signed, number) is None:
                return JSONResponse({"error": f"документ {number} не найден"}, status_code=404)
        try:
            web.services.correct(number, values, by=signed.email, version=version)
        except services.Refused as exc:
            return _refusal(exc)
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
            assert doc is not None
            return JSONResponse(cases.api_record(s, doc))

    # -- the dashboard -------------------------------------------------------

    def board_of(signed: signin.Signed) -> dashboard.Dashboard:
        """The dashboard as far as this person's rights go: the whole organisation's with
        the report and registers they may see, or the board of their own cases."""
        may = signed.rights.may
        with Session(web.engine) as s:
            return dashboard.build(
                s,
                web.rules,
                _now(),
                report="report" in may,
                registers="registers" in may,
                scope=cases.scope(web.rules, signed),
            )

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard_page(request: Request) -> Response:
        signed = who(request)
        board = board_of(signed)
        return page(
            request,
            "dashboard.html",
            me=signed,
            board=board,
            url=filters.journal_url,
            figures=digest_render.figures(board.report) if board.report else [],
        )

    @app.get("/api/dashboard")
    def api_dashboard(request: Request) -> Response:
        return JSONResponse(_board_json(board_of(who(request))))

    @app.get("/dashboard/report.xlsx")
    def dashboard_report(request: Request) -> Response:
        """The current week's report (2.13) as the Monday mail attaches it."""
        signed = who(request)
        if "report" not in signed.rights.may or not signed.rights.see_all:
            return Response(
                f"{signed.email}: недельный отчёт — для руководства и ПР-специалиста",
                status_code=403,
                media_type="text/plain; charset=utf-8",
            )
        with Session(web.engine) as s:
            report = digest.build(s, web.rules, digest.Week.of(_now()), _now())
        return Response(
            digest_render.xlsx(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="report-{report.week}.xlsx"'},
        )

    # -- API tokens -----------------------------------------------------------

    def session_only(signed: signin.Signed) -> None:
        if signed.by_token:  # a leaked token must not be able to mint or keep more of itself
            raise services.NotAllowed("ключами API управляют только из браузера, после входа по ссылке")

    def tokens_page(request: Request, signed: signin.Signed, status: int = 200, **extra: Any) -> Response:
        return page(
            request,
            "tokens.html",
            status,
            me=signed,
            keys=tokens.listing(web.engine, signed.email),
            limit=tokens.NAME_LIMIT,
            days=web.rules.access.token_days,
            now=_now(),
            **extra,
        )

    @app.get("/tokens", response_class=HTMLResponse)
    def tokens_list(request: Request) -> Response:
        signed = who(request)
        try:
            session_only(signed)
        except services.Refused as exc:
            return HTMLResponse(str(exc), status_code=403)
        done = request.query_params.get("revoked")
        return tokens_page(request, signed, revoked=done)

    async def token_form(request: Request) -> tuple[signin.Signed, Any] | Response:
        """A signed-in person's form for their keys (a session, not a key: a key makes no
        keys), its CSRF token checked; or the refusal to answer with."""
        signed = who(request)
        form = await request.form(max_part_size=64 * 1024)
        try:
            session_only(signed)
        except services.Refused as exc:
            return HTMLResponse(str(exc), status_code=403)
        check_csrf(request, signed, str(form.get("csrf") or ""))
        return signed, form

    @app.post("/tokens", response_class=HTMLResponse)
    async def tokens_create(request: Request) -> Response:
        got = await token_form(request)
        if isinstance(got, Response):
            return got
        signed, form = got
        name = str(form.get("name") or "")
        try:
            token, key = tokens.create(web.engine, signed, name, days=web.rules.access.token_days, now=_now())
        except tokens.Refused as exc:
            return tokens_page(request, signed, 400, error=str(exc), typed=name)
        # shown on this answer only: nothing stores it, a reload shows the list without it
        return tokens_page(request, signed, 201, new_token=token, new_key=key)

    @app.post("/tokens/{token_id}/revoke", response_class=HTMLResponse)
    async def tokens_revoke(request: Request, token_id: int) -> Response:
        got = await token_form(request)
        if isinstance(got, Response):
            return got
        signed, _ = got
        key = tokens.revoke(web.engine, signed, token_id, now=_now())
        if key is None:
            return tokens_page(request, signed, 404, error="Такого действующего ключа у вас нет.")
        return RedirectResponse(f"/tokens?{urlencode({'revoked': key.name})}", status_code=303)

    # -- the clerk's queues --------------------------------------------------

    def queue_of(signed: signin.Signed, name: str) -> Queue:
        if "queues" not in signed.rights.may:
            raise services.NotAllowed(f"{signed.email}: очереди ведёт канцелярия")
        try:
            return Queue(name)
        except ValueError:
            raise services.NotFound(f"нет очереди «{name}»") from None

    @app.get("/queues", response_class=HTMLResponse)
    def queues_page(request: Request) -> Response:
        signed = who(request)
        name = request.query_params.get("q", Queue.REVIEW.value)
        try:
            queue = queue_of(signed, name)
        except services.Refused as exc:
            return page(
                request, "queues.html", _status(exc), me=signed, error=str(exc), counts={}, queue=None
            )
        return page(
            request,
            "queues.html",
            me=signed,
            queue=queue,
            counts=web.queues.counts(),
            items=web.queues.items(queue),
            done=request.query_params.get("done"),
        )

    @app.get("/api/queues/{name}")
    def api_queue(request: Request, name: str) -> Response:
        signed = who(request)
        try:
            queue = queue_of(signed, name)
        except services.Refused as exc:
            return _refusal(exc)
        return JSONResponse(
            {
                "queue": queue.value,
                "items": [
                    {
                        "id": i.id,
                        "at": i.at.isoformat(),
                        "who": i.who,
                        "what": i.what,
                        "why": i.why,
                        "number": i.number,
                        "status": i.status,
                    }
                    for i in web.queues.items(queue)
                ],
            }
        )

    @app.post("/queues/{name}/{item}/{action}", response_class=HTMLResponse)
    async def queue_act(request: Request, name: str, item: int, action: str) -> Response:
        signed = who(request)
        form = {k: v for k, v in (await request.form(max_part_size=64 * 1024)).items() if isinstance(v, str)}
        check_csrf(request, signed, form.get("csrf"))
        try:
            queue = queue_of(signed, name)
            said = web.queues.do(queue, item, action, form, by=signed.email)
        except services.Refused as exc:
            known = name in {q.value for q in Queue} and "queues" in signed.rights.may
            return page(
                request,
                "queues.html",
                _status(exc),
                me=signed,
                error=str(exc),
                queue=Queue(name) if known else None,
                counts=web.queues.counts() if known else {},
                items=web.queues.items(Queue(name)) if known else [],
            )
        log.info("queue %s #%s: %s by %s", name, item, action, signed.email)
        return RedirectResponse(f"/queues?{urlencode({'q': name, 'done': said})}", status_code=303)

    @app.post("/api/queues/{name}/{item}/{action}")
    async def api_queue_act(request: Request, name: str, item: int, action: str) -> Response:
        signed = who(request)
        check_csrf(request, signed, request.headers.get("x-csrf-token"))
        try:
            body = await request.json() if await request.body() else {}
        except ValueError:
            return JSONResponse({"error": "тело запроса — не JSON"}, status_code=400)
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            return JSONResponse({"error": "ожидается объект JSON со строками"}, status_code=400)
        try:
            said = web.queues.do(queue_of(signed, name), item, action, body, by=signed.email)
        except services.Refused as exc:
            return _refusal(exc)
        return JSONResponse({"done": said})

    @app.get("/queues/mail/{item}", response_class=HTMLResponse)
    def queued_mail(request: Request, item: int) -> Response:
        """What a queued message says, to decide what it is (read from the archive)."""
        signed = who(request)
        if "queues" not in signed.rights.may:
            return page(request, "missing.html", 404, me=signed, number=f"письмо №{item}")
        shown = web.queues.mail(item)
        if shown is None:
            return page(request, "missing.html", 404, me=signed, number=f"письмо №{item}")
        return page(request, "mail.html", me=signed, mail=shown)

    @app.get("/pages/{sha256}/{n}.png")
    def page_image(request: Request, sha256: str, n: int) -> Response:
        signed = who(request)
        with Session(web.engine) as s:
            att = cases.attachment(s, web.rules, signed, sha256)
        if att is None or n < 1:
            return Response("нет такой страницы", status_code=404)
        try:
            path = pages.page_png(web.archive, web.cache, att.sha256, att.content_type, n - 1)
        except (pages.NoPage, FileNotFoundError) as exc:
            return Response(f"страница не показывается: {exc}", status_code=404)
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus, for a scraper on this machine only (the proxy does not pass it on)."""
        if (
            request.client is None
            or not is_loopback(request.client.host)
            or request.headers.get("x-forwarded-for")
        ):
            return Response("только с этой машины", status_code=403, media_type="text/plain; charset=utf-8")
        return Response(status.prometheus(status.read(web.cfg, web.engine)), media_type=PROMETHEUS)

    @app.get("/crops/{number}/{field}.png")
    def crop_image(request: Request, number: str, field: str) -> Response:
        """The piece of the scan where a field left unread (handwriting) is written."""
        signed = who(request)
        with Session(web.engine) as s:
            doc = cases.find(s, web.rules, signed, number)
            crop = _json(doc.crops).get(field) if doc else None
            att = cases.attachment(s, web.rules, signed, crop["sha256"]) if crop else None
        if crop is None or att is None:
            return Response("нет такого фрагмента", status_code=404)
        try:
            path = pages.crop_png(
                web.archive, web.cache, att.sha256, att.content_type, crop["page"], crop["box"]
            )
        except (pages.NoPage, FileNotFoundError) as exc:
            return Response(f"фрагмент не показывается: {exc}", status_code=404)
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/static/app.css")
    def css() -> Response:
        return FileResponse(HERE / "static" / "app.css", media_type="text/css")

    return app


def _count(n: int, f: Filter | None) -> dict[str, Any]:
    return {"count": n, "url": filters.journal_url(f)}


def _board_json(b: dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard as the API gives it: every number with the journal address of its cases."""

    def lines(rows: tuple[dashboard.Line, ...], key: str) -> list[dict[str, Any]]:
        return [
            {
                key: r.key,
                "label": r.label,
                "overdue": _count(r.overdue, r.overdue_filter),
                "due_week": _count(r.due_week, r.due_filter),
            }
            for r in rows
        ]

    out: dict[str, Any] = {
        "today": b.today.isoformat(),
        "week_end": b.week_end.isoformat(),
        "scope": "own" if b.own else "all",
        "overdue": _count(b.overdue, b.overdue_filter),
        "due_week": _count(b.due_week, b.due_filter),
        "by_executor": lines(b.by_executor, "email"),
        "by_unit": lines(b.by_unit, "unit"),
        "unassigned": {"overdue": b.unassigned_overdue, "due_week": b.unassigned_due_week},
        "report": None,
        "registers": [
            {
                "register": r.key,
                "title": r.title,
                "year": r.year,
                "entries": _count(r.entries, r.filter),
                "last_number": r.last,
            }
            for r in b.registers
        ],
    }
    r = b.report
    if r is not None:
        out["report"] = {
            "week": str(r.week),
            "since": r.week.start.isoformat(),
            "until": r.week.end.isoformat(),
            "xlsx": "/dashboard/report.xlsx",
            "new": _count(r.new, b.week_filter),
            "figures": [
                {"label": label.strip(), "value": v, "attention": bad}
                for label, v, bad in digest_render.figures(r)
            ],
            "book_breaches": {
                **_count(len(r.book_breaches), b.book_filter),
                "items": [
                    {"number": x.number, "delay_minutes": x.delay_minutes, "unit": x.unit}
                    for x in r.book_breaches
                ],
            },
            "unproven": {
                **_count(b.unproven_cases, b.unproven_filter),
                "deliveries": r.unproven_total,
                "items": [
                    {"number": x.number, "to": x.to, "proof": x.proof, "sent_at": x.created_at.isoformat()}
                    for x in r.unproven
                ],
            },
        }
    return out


def _patch_values(body: object) -> tuple[dict[str, Any], int | None]:
    """A partial export object as correctable fields, and the version it was read at."""
    if not isinstance(body, dict):
        raise services.Invalid("body", "ожидается объект JSON")
    values: dict[str, Any] = {}
    version = None
    for key, v in body.items():
        if key == "consumer":
            if not isinstance(v, dict):
                raise services.Invalid("consumer", "ожидается объект")
            for field, value in v.items():
                if field not in CONSUMER_FIELDS:
                    raise services.Invalid(f"consumer.{field}", "это поле нельзя исправить")
                values[field] = value
        elif key in ("kind", "group"):
            values[key] = v
        elif key == "version":
            if not isinstance(v, int) or isinstance(v, bool):
                raise services.Invalid("version", "ожидается число")
            version = v
        else:
            raise services.Invalid(key, "это поле нельзя исправить")
    return values, version  # validated by services.correct, as every correction is


def _status(exc: services.Refused) -> int:
    """The HTTP status a refusal answers with."""
    for kind, code in (
        (services.NotFound, 404),
        (services.NotAllowed, 403),
        (services.Conflict, 409),
    ):
        if isinstance(exc, kind):
            return code
    return 400


def _refusal(exc: services.Refused) -> JSONResponse:
    body = {"error": str(exc)} | ({"field": exc.field} if isinstance(exc, services.Invalid) else {})
    return JSONResponse(body, status_code=_status(exc))


def _shown(v: object) -> str:
    return "" if v is None else str(v)


def _json(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
