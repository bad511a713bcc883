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
import urllib.parse
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
from central import forms
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
MAX_CORRECTION_CHARS = 100  # the longest value a roster column holds (a major's name)

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

    def locked(name: str, at: dt.datetime) -> bool:
        """Too many wrong passwords for this name lately (a login's or a password change's)."""
        return accounts.failures_since(name, acc.iso(at - acc.FAILURE_WINDOW)) >= acc.MAX_FAILURES

    lock_minutes = int(acc.FAILURE_WINDOW.total_seconds() // 60)

    async def form_with_csrf(request: Request, expected: str) -> dict[str, str]:
        """The posted fields (central/forms.py says what is refused), if the token matches."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > forms.MAX_FORM_BYTES:
                raise forms.TOO_LARGE  # read no further
        form = forms.parse_form(request.headers.get("content-type", ""), bytes(body))
        sent = form.get("csrf")
        if sent is None or not expected or not acc.same_token(sent, expected):
            raise Denied("csrf")
        return form

    def guarded(
        handler: Callable[[Request, acc.Account, str], Awaitable[Response]],
        *,
        before_new_password: bool = False,
    ) -> Callable[[Request], Awaitable[Response]]:
        """Signed in, or to the login page; an account whose password was reset sees only
        the change-password page (and may sign out) until it has chosen its own."""

        async def endpoint(request: Request) -> Response:
            who = await signed_in(request)
            if who is None:
                if request.method == "POST":  # a form from an ended session: say so, save nothing
                    return page(
                        "error.html",
                        401,
                        account=None,
                        message="您已退出登录（或登录已过期、账号已停用），刚才的操作没有保存。"
                        "请重新登录后再试。",
                        back="/login",
                    )
                return RedirectResponse("/login", status_code=303, headers=_HEADERS)
            account, csrf = who
            if account.must_change_password and not before_new_password:
                return RedirectResponse("/password", status_code=303, headers=_HEADERS)
            try:
                return await handler(request, account, csrf)
            except forms.FormProblem as exc:
                return page(
                    "error.html",
                    exc.status,
                    account=account,
                    csrf=csrf,
                    message=exc.message,
                    back=_same_site_referer(request),
                )
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
        except forms.FormProblem as exc:
            return await login_form(request, exc.message, exc.status)
        name, password = form.get("name", "").strip(), form.get("password", "")
        at = clock()

        def check() -> tuple[str, acc.Account | None]:
            if not acc.NAME_RE.fullmatch(name) or len(password) > acc.MAX_PASSWORD_LENGTH:
                acc.verify_password(None, password[: acc.MAX_PASSWORD_LENGTH])  # same time
                return "wrong", None  # no such account can exist: nothing to count or lock
            if locked(name, at):
                return "locked", None
            found = accounts.user(name)
            if not acc.verify_password(found[1] if found else None, password) or not found:
                accounts.record_failure(name, acc.iso(at))
                return "wrong", None
            if accounts.disabled(name):  # said only to whoever knows the password
                return "disabled", None
            if acc.needs_rehash(found[1]):
                accounts.set_password_hash(name, acc.hash_password(password))
            accounts.record_login(name, acc.iso(at))
            return "ok", found[0]

        outcome, account = await run_in_threadpool(check)
        if outcome == "locked":
            return await login_form(
                request, f"登录失败次数过多，请 {lock_minutes} 分钟后再试。", 429
            )
        if outcome == "disabled":
            return await login_form(
                request, "此账号已停用，无法登录。如需继续使用，请联系省教育厅重新启用。", 403
            )
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
        target = "/password" if account.must_change_password else _home(account)
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
        return RedirectResponse(_home(account), status_code=303, headers=_HEADERS)

    # -- the account's own password ----------------------------------------------------

    def password_page(
        account: acc.Account, csrf: str, message: str = "", status: int = 200, done: bool = False
    ) -> HTMLResponse:
        return page(
            "password.html",
            status,
            account=account,
            csrf=csrf,
            message=message,
            done=done,
            home=_home(account),
            min_length=acc.MIN_PASSWORD_LENGTH,
            max_length=acc.MAX_PASSWORD_LENGTH,
        )

    async def password_get(request: Request, account: acc.Account, csrf: str) -> Response:
        return password_page(account, csrf, done=request.query_params.get("done") == "1")

    async def password_post(request: Request, account: acc.Account, csrf: str) -> Response:
        form = await form_with_csrf(request, csrf)
        old, new, repeated = form.get("old", ""), form.get("new", ""), form.get("repeat", "")
        session = acc.token_digest(request.cookies.get(SESSION_COOKIE, ""))
        at = clock()

        def change() -> tuple[int, str]:
            # A wrong old password counts against the login limit: a left-open
            # session is no way round it.
            if locked(account.name, at):
                return 429, f"原密码输错次数过多，请 {lock_minutes} 分钟后再试。"
            found = accounts.user(account.name)
            if len(old) > acc.MAX_PASSWORD_LENGTH or not acc.verify_password(
                found[1] if found else None, old
            ):
                accounts.record_failure(account.name, acc.iso(at))
                return 400, "原密码不正确，请重新输入（重置后的密码见省教育厅给您的纸条）。"
            problem = acc.password_problem(new, repeated, old)
            if problem:
                return 400, problem
            accounts.replace_password(
                account.name, acc.hash_password(new), must_change=False, keep_session=session
            )
            return 303, ""

        status, message = await run_in_threadpool(change)
        if status != 303:
            return password_page(account, csrf, message, status)
        return RedirectResponse("/password?done=1", status_code=303, headers=_HEADERS)

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
            # Each student's live marks, to withdraw: the retake, and one per corrected field.
            marks: dict[str, dict[str, int]] = {}
            for d in state.decisions:
                marks.setdefault(d.id_number, {})[d.field if d.kind == "erratum" else "retake"] = (
                    d.id
                )
            return {
                "marks": marks,
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
        if kind not in ("retake", "erratum"):
            raise Denied("kind")
        back = _review_url(code, form.get("department", ""))

        def store() -> str:
            if campaign.student_school(id_number) != code:
                raise Denied("school")  # a student of another school, or none
            if kind == "retake":
                reason = form.get("reason", "")
                if reason not in RETAKE_REASONS:
                    raise forms.FormProblem(
                        400, "请选择重拍原因（闭眼、表情不自然、非本人或其他）。"
                    )
                campaign.decide(
                    Decision(code, id_number, "retake", reason=reason, user=account.name)
                )
                return "已标记重拍"
            field, value = form.get("field", ""), form.get("value", "").strip()
            if field not in CORRECTABLE:
                raise forms.FormProblem(400, "请选择要更正的项目（姓名、性别、学号等）。")
            if not value or len(value) > MAX_CORRECTION_CHARS:
                raise forms.FormProblem(
                    400, f"请填写正确的值（1 到 {MAX_CORRECTION_CHARS} 个字），更正没有保存。"
                )
            search = key_code(id_number) or id_number  # a 采集码 student is found by code
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
        return RedirectResponse(_with_message(back, message), status_code=303, headers=_HEADERS)

    async def withdraw(request: Request, account: acc.Account, csrf: str) -> Response:
        """Take back a 重拍 or 信息有误 mark: not once the review is marked finished (the
        office may already be delivering on it) unless the registrar reopens it."""
        code = school_access(request, account)
        form = await form_with_csrf(request, csrf)
        back = _review_url(code, form.get("department", ""))
        number = form.get("decision", "")
        if not number.isascii() or not number.isdigit() or len(number) > 18:
            outcome = "unknown"
        else:
            outcome = await run_in_threadpool(campaign.withdraw, code, int(number), account.name)
        if outcome == "finished":
            return page(
                "error.html",
                409,
                account=account,
                csrf=csrf,
                message="本校审核已标记完成，不能撤销标记。如需撤销，请先在审核页点击"
                "“重新打开审核”，撤销后再点“全部审核完成”。",
                back=back,
            )
        if outcome == "unknown":
            return page(
                "error.html",
                404,
                account=account,
                csrf=csrf,
                message="没有找到这项标记：它可能已被撤销或被新的更正替换。请返回审核页刷新后再看。",
                back=back,
            )
        return RedirectResponse(
            _with_message(back, "已撤销标记"), status_code=303, headers=_HEADERS
        )

    async def reopen(request: Request, account: acc.Account, csrf: str) -> Response:
        code = school_access(request, account)
        await form_with_csrf(request, csrf)
        await run_in_threadpool(campaign.reopen_review, code)
        return RedirectResponse(
            _with_message(_review_url(code, ""), "审核已重新打开，可以撤销或修改标记"),
            status_code=303,
            headers=_HEADERS,
        )

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
        Route("/logout", guarded(logout, before_new_password=True), methods=["POST"]),
        Route("/password", guarded(password_get, before_new_password=True), methods=["GET"]),
        Route("/password", guarded(password_post, before_new_password=True), methods=["POST"]),
        Route("/office", guarded(office), methods=["GET"]),
        Route("/school/{code}", guarded(school), methods=["GET", "POST"]),
        Route("/school/{code}/review", guarded(review), methods=["GET"]),
        Route("/school/{code}/review/finish", guarded(finish), methods=["POST"]),
        Route("/school/{code}/review/reopen", guarded(reopen), methods=["POST"]),
        Route("/school/{code}/review/withdraw", guarded(withdraw), methods=["POST"]),
        Route("/school/{code}/review/{kind:str}", guarded(decide), methods=["POST"]),
        Route("/school/{code}/package.zip", guarded(package), methods=["GET"]),
        Route("/photos/{record}.jpg", guarded(photo), methods=["GET"]),
    ]


def _home(account: acc.Account) -> str:
    return "/office" if account.role == "office" else f"/school/{account.school_code}"


def _same_site_referer(request: Request) -> str | None:
    """The page the form was on (to go back to), if it is one of ours."""
    referer = urllib.parse.urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def _review_url(code: str, department: str) -> str:
    return f"/school/{code}/review?" + urllib.parse.urlencode({"department": department[:100]})


def _with_message(url: str, message: str) -> str:
    return f"{url}&" + urllib.parse.urlencode({"done": message})


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
