"""The office's and the schools' web pages (server-rendered, Chinese first, no JavaScript).

Starlette routes and Jinja2 templates (central/templates). Who may see what
is decided in one place, :func:`_school_access`: an office account sees every
school; a school account only its own pages, photos and package; anything
else is a 403 page before any data is read. Every form carries the session's
CSRF token and is refused without it. ID numbers are masked on screen, never
put in a URL (photos are addressed by record uuid) and never logged.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from central import accounts as acc
from central.campaign import (
    CORRECTABLE,
    CREW_RATE_PER_HOUR,
    FIELD_LABELS,
    RETAKE_REASONS,
    Decision,
    local_time,
    mask_code,
    mask_id_number,
)
from central.storage import AccountStore, CampaignStore, PhotoStore
from kiosk.config import Config
from kiosk.export.writer import ExportError
from kiosk.student import key_code
from kiosk.sync import protocol

log = logging.getLogger("central")

SESSION_COOKIE = "office_session"
LOGIN_COOKIE = "office_login"  # CSRF token of the login form (double submit)
THUMB_SIZE = (120, 160)
PAGE_SIZE = 60
MAX_QUERY = 300  # a 采集码 may be a whole chsi.com.cn URL

_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Denied(Exception):
    """The signed-in account may not see this school (or nobody is signed in)."""


def web_routes(
    campaign: CampaignStore,
    accounts: AccountStore,
    photos: PhotoStore,
    data_dir: Path,
    *,
    secure_cookies: bool = False,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> list[Route]:
    templates = Environment(
        loader=PackageLoader("central", "templates"), autoescape=select_autoescape(["html"])
    )
    templates.filters["masked"] = mask_id_number
    templates.filters["masked_code"] = mask_code
    collection_code = re.compile(Config().scanner.collection_code_pattern)
    # Stamps are stored in UTC; the office reads its own clock (the export's offset).
    offset_hours = Config().export.utc_offset_hours
    templates.filters["local_time"] = lambda iso: local_time(iso, offset_hours)
    thumbs = data_dir / "thumbs"
    # One package build at a time: each is tens of seconds of CPU for a big school,
    # and a registrar pressing "download" twice must not start a second one.
    building = threading.Lock()

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = templates.get_template(template).render(
            field_labels=FIELD_LABELS, retake_reasons=RETAKE_REASONS, **values
        )
        return HTMLResponse(body, status_code=status, headers=_HEADERS)

    async def signed_in(request: Request) -> tuple[acc.Account, str] | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        return await run_in_threadpool(accounts.session, acc.token_digest(token), acc.iso(clock()))

    async def form_with_csrf(request: Request, expected: str) -> dict[str, str]:
        form = await request.form()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not expected or not acc.same_token(sent, expected):
            raise Denied("csrf")
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def guarded(
        handler: Callable[[Request, acc.Account, str], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            who = await signed_in(request)
            if who is None:
                return RedirectResponse("/login", status_code=303, headers=_HEADERS)
            account, csrf = who
            try:
                return await handler(request, account, csrf)
            except Denied as exc:
                return page(
                    "error.html",
                    403,
                    account=account,
                    csrf=csrf,
                    message="表单已过期，请返回重试。"
                    if str(exc) == "csrf"
                    else "无权访问此页面。",
                )

        return endpoint

    def school_access(request: Request, account: acc.Account) -> str:
        code = request.path_params["code"]
        if not protocol.SCHOOL_CODE_RE.fullmatch(code) or not account.may_see(code):
            raise Denied("school")
        return code

    # -- login -----------------------------------------------------------------------

    async def login_form(request: Request, message: str = "", status: int = 200) -> Response:
        token = acc.new_token()
        response = page("login.html", status, csrf=token, message=message, account=None)
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies
        )
        return response

    async def login_get(request: Request) -> Response:
        return await login_form(request)

    async def login_post(request: Request) -> Response:
        try:
            form = await form_with_csrf(request, request.cookies.get(LOGIN_COOKIE, ""))
        except Denied:
            return await login_form(request, "页面已过期，请重新登录。", 403)
        name, password = form.get("name", "").strip(), form.get("password", "")
        at = clock()

        def check() -> tuple[str, acc.Account | None]:
            since = acc.iso(at - acc.FAILURE_WINDOW)
            if accounts.failures_since(name, since) >= acc.MAX_FAILURES:
                return "locked", None
            found = accounts.user(name)
            if not acc.verify_password(found[1] if found else None, password) or not found:
                accounts.record_failure(name, acc.iso(at))
                return "wrong", None
            if acc.needs_rehash(found[1]):
                accounts.set_password_hash(name, acc.hash_password(password))
            return "ok", found[0]

        outcome, account = await run_in_threadpool(check)
        if outcome == "locked":
            minutes = int(acc.FAILURE_WINDOW.total_seconds() // 60)
            return await login_form(request, f"登录失败次数过多，请 {minutes} 分钟后再试。", 429)
        if account is None:
            return await login_form(request, "用户名或密码错误。", 401)
        token, csrf = acc.new_token(), acc.new_token()
        await run_in_threadpool(
            accounts.add_session,
            acc.token_digest(token),
            account.name,
            csrf,
            acc.iso(at + acc.SESSION_LIFETIME),
        )
        target = "/office" if account.role == "office" else f"/school/{account.school_code}"
        response = RedirectResponse(target, status_code=303, headers=_HEADERS)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(acc.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=secure_cookies,
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    async def logout(request: Request, account: acc.Account, csrf: str) -> Response:
        await form_with_csrf(request, csrf)
        token = request.cookies.get(SESSION_COOKIE, "")
        await run_in_threadpool(accounts.end_session, acc.token_digest(token))
        response = RedirectResponse("/login", status_code=303, headers=_HEADERS)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def home(request: Request, account: acc.Account, csrf: str) -> Response:
        target = "/office" if account.role == "office" else f"/school/{account.school_code}"
        return RedirectResponse(target, status_code=303, headers=_HEADERS)

    # -- pages -----------------------------------------------------------------------

    async def office(request: Request, account: acc.Account, csrf: str) -> Response:
        if account.role != "office":
            raise Denied("office")
        schools = await run_in_threadpool(campaign.progress)
        kiosks = await run_in_threadpool(campaign.kiosk_activity)
        return page(
            "office.html",
            account=account,
            csrf=csrf,
            schools=schools,
            kiosks=kiosks,
            crew_rate=CREW_RATE_PER_HOUR,
            totals={
                "expected": sum(s.expected or 0 for s in schools),
                "roster": sum(s.roster for s in schools),
                "photographed": sum(s.photographed for s in schools),
                "missing": sum(s.missing for s in schools),
            },
        )

    async def school(request: Request, account: acc.Account, csrf: str) -> Response:
        code = school_access(request, account)
        # Searched by POST: an ID number typed in the box stays out of URLs and access logs.
        if request.method == "POST":
            query = (await form_with_csrf(request, csrf)).get("q", "").strip()[:MAX_QUERY]
        else:
            query = request.query_params.get("q", "").strip()[:MAX_QUERY]

        def read() -> dict[str, Any]:
            progress = campaign.progress(code)
            students, total = (
                campaign.students(code, query=query, limit=PAGE_SIZE) if query else ([], 0)
            )
            return {
                "progress": progress[0] if progress else None,
                "groups": campaign.groups(code),
                "proposals": campaign.station_proposals(code),
                "students": students,
                "total": total,
                "school_name": campaign.school_name(code) or code,
            }

        values = await run_in_threadpool(read)
        if collection_code.fullmatch(query):
            shown = mask_code(query)
        elif len(query) >= 15 and query[:6].isdigit():
            shown = mask_id_number(query)
        else:
            shown = query
        return page("school.html", account=account, csrf=csrf, code=code, query=shown, **values)

    async def review(request: Request, account: acc.Account, csrf: str) -> Response:
        code = school_access(request, account)
        department = request.query_params.get("department")
        try:
            number = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            number = 1

        def read() -> dict[str, Any]:
            groups = campaign.groups(code)
            chosen = (
                department if department is not None else (groups[0].department if groups else "")
            )
            students, total = campaign.students(
                code, department=chosen, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
            )
            state = campaign.review(code)
            return {
                "groups": groups,
                "department": chosen,
                "students": students,
                "total": total,
                "pages": max(1, -(-total // PAGE_SIZE)),
                "page_number": number,
                "state": state,
                "school_name": campaign.school_name(code) or code,
            }

        values = await run_in_threadpool(read)
        return page(
            "review.html",
            account=account,
            csrf=csrf,
            code=code,
            correctable=CORRECTABLE,
            message=request.query_params.get("done", ""),
            **values,
        )

    async def decide(request: Request, account: acc.Account, csrf: str) -> Response:
        code = school_access(request, account)
        form = await form_with_csrf(request, csrf)
        id_number = form.get("student", "")
        kind = request.path_params["kind"]
        back = f"/school/{code}/review?department={form.get('department', '')}"

        def store() -> str:
            if campaign.student_school(id_number) != code:
                raise Denied("school")  # a student of another school, or none
            if kind == "retake":
                reason = form.get("reason", "")
                if reason not in RETAKE_REASONS:
                    return "请选择重拍原因"
                campaign.decide(
                    Decision(code, id_number, "retake", reason=reason, user=account.name)
                )
                return "已标记重拍"
            field, value = form.get("field", ""), form.get("value", "").strip()
            if field not in CORRECTABLE or not value or len(value) > 100:
                return "请选择要更正的项目并填写正确的值"
            search = key_code(id_number) or id_number
            current = {s.key: s for s in campaign.students(code, query=search, limit=5)[0]}
            old = getattr(current[id_number], field) if id_number in current else ""
            campaign.decide(
                Decision(
                    code,
                    id_number,
                    "erratum",
                    field=field,
                    old_value=str(old),
                    new_value=value,
                    user=account.name,
                )
            )
            return "已记录信息更正"

        message = await run_in_threadpool(store)
        return RedirectResponse(f"{back}&done={message}", status_code=303, headers=_HEADERS)

    async def finish(request: Request, account: acc.Account, csrf: str) -> Response:
        code = school_access(request, account)
        await form_with_csrf(request, csrf)
        await run_in_threadpool(campaign.finish_review, code, account.name)
        return RedirectResponse(
            f"/school/{code}/review?done=审核已完成", status_code=303, headers=_HEADERS
        )

    async def photo(request: Request, account: acc.Account, csrf: str) -> Response:
        record = request.path_params["record"]
        if not protocol.UUID_RE.fullmatch(record):
            raise Denied("photo")
        found = await run_in_threadpool(campaign.record_school, record)
        if found is None or not account.may_see(found[0]):
            raise Denied("photo")
        sha256 = found[1]
        if request.query_params.get("size") == "full":
            data = await run_in_threadpool(photos.read, sha256)
        else:
            data = await run_in_threadpool(_thumbnail, photos, thumbs, sha256)
        return Response(
            data,
            media_type="image/jpeg",
            headers={
                "Cache-Control": "private, max-age=86400",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def package(request: Request, account: acc.Account, csrf: str) -> Response:
        code = school_access(request, account)

        def build() -> Path:
            with building:
                return _package_zip(campaign, photos, code, data_dir / "tmp-web")

        try:
            path = await run_in_threadpool(build)
        except ExportError as exc:
            # The office sees why in its log and in `central export`; the registrar is told
            # plainly (the reason names paths and kiosks, not for a school's screen).
            log.warning("package %s not built: %s", code, str(exc).splitlines()[0])
            return page(
                "error.html",
                409,
                account=account,
                csrf=csrf,
                message="数据包暂时无法生成，请联系采集办公室（他们运行 central export 可看到原因）。",
            )
        return FileResponse(
            path,
            media_type="application/zip",
            filename=f"{code}.zip",
            headers={"Cache-Control": "no-store"},
            background=BackgroundTask(path.unlink, missing_ok=True),
        )

    return [
        Route("/", guarded(home), methods=["GET"]),
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", guarded(logout), methods=["POST"]),
        Route("/office", guarded(office), methods=["GET"]),
        Route("/school/{code}", guarded(school), methods=["GET", "POST"]),
        Route("/school/{code}/review", guarded(review), methods=["GET"]),
        Route("/school/{code}/review/finish", guarded(finish), methods=["POST"]),
        Route("/school/{code}/review/{kind:str}", guarded(decide), methods=["POST"]),
        Route("/school/{code}/package.zip", guarded(package), methods=["GET"]),
        Route("/photos/{record}.jpg", guarded(photo), methods=["GET"]),
    ]


def _thumbnail(photos: PhotoStore, folder: Path, sha256: str) -> bytes:
    """A 120 x 160 copy (a few KB) made once and kept: a page of 60 loads in a blink."""
    path = folder / sha256[:2] / f"{sha256}.jpg"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    source = Image.open(io.BytesIO(photos.read(sha256)))
    source.draft("RGB", THUMB_SIZE)
    image = source.convert("RGB")
    image.thumbnail(THUMB_SIZE)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    data = out.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    temp.write_bytes(data)
    temp.replace(path)
    return data


def _package_zip(campaign: CampaignStore, photos: PhotoStore, code: str, work: Path) -> Path:
    """The same package as ``central export --school``, zipped for the registrar
    (in a temporary file: a school's package is hundreds of MB)."""
    from central.export import repeated_numbers, school_package
    from kiosk.export import writer

    settings = Config().export
    package = school_package(
        campaign, photos.path, code, utc_offset_hours=settings.utc_offset_hours
    )
    repeated = repeated_numbers(package)
    if repeated:
        raise ExportError(f"拍摄序号 {', '.join(map(str, repeated))} would be printed twice")
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="package-", dir=work) as temp:
        result = writer.write_package(package, Path(temp), settings)
        handle, name = tempfile.mkstemp(prefix=f"{code}-", suffix=".zip", dir=work)
        # Entry times are the package's stamp (not the files' mtimes): the same
        # package downloads as the same bytes, like a re-export.
        stamp = (package.stamp + package.utc_offset).timetuple()[:6]
        with open(handle, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for file in sorted(result.path.rglob("*")):
                if file.is_file():
                    entry = zipfile.ZipInfo(
                        f"{code}/{file.relative_to(result.path).as_posix()}", date_time=stamp
                    )
                    with file.open("rb") as source, archive.open(entry, "w") as target:
                        shutil.copyfileobj(source, target, 1 << 20)
    return Path(name)
