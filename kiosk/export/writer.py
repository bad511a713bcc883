"""Write one package folder: photos, sheets, proofs, SHA256SUMS; all or nothing.

The folder is built as ``.<name>.partial-<pid>`` beside its final place and
renamed into place only when every file is written and flushed, so a school
never receives half a package and a crash leaves the previous one intact.

Every photo's file name is worked out before anything is written, and every
stored photo is read back and checked against the SHA-256 the kiosk recorded
when it was taken: a bad name or a damaged or missing file stops the export
(the partial folder is deleted) naming the students it concerns, rather than
delivering a wrong photo.

Everything is ordered and stamped by the package itself (see
:mod:`kiosk.export.package`), so exporting the same data twice gives
byte-identical files and the same SHA256SUMS.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kiosk import fonts
from kiosk.config import ConfigError, ExportConfig
from kiosk.durable import fsync_dir
from kiosk.export import fields, proofs, sheets
from kiosk.export.package import Package, Photo, group_key

SUMS = "SHA256SUMS"
PHOTOS = "photos"
FILES = ("index.xlsx", "index.csv", "proofs.pdf", "missing.xlsx", "retakes.xlsx", "errata.xlsx")
# JPEG segments that carry photo metadata: APP1 (EXIF, XMP), APP13 (IPTC), COM.
# APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour transform)
# change how the pixels are read, so they stay.
_METADATA_MARKERS = frozenset({0xE1, 0xED, 0xFE})

Progress = Callable[[int], None]  # called with the number of steps just done


class ExportError(RuntimeError):
    """The package cannot be written; the previous package (if any) is untouched."""


@dataclass(frozen=True)
class PackageResult:
    package: Package
    path: Path
    pages: int
    bytes: int
    seconds: float
    warnings: tuple[str, ...] = ()


def steps(package: Package, settings: ExportConfig) -> int:
    """Units of work :func:`write_package` reports: photos, pages, then files."""
    grid = proofs.layout(settings.paper, settings.columns, settings.rows, len(settings.captions))
    pages = proofs.page_count(group_sizes(package), grid.per_page)
    return len(package.photos) + pages + len(FILES)


def file_names(photos: Sequence[Photo], template: str, without_id: str | None = None) -> list[str]:
    """Each photo's name in photos/; ExportError naming the students it fails for.

    A student with no ID number (a 采集码 student) whom ``template`` cannot
    name is named by ``without_id`` when given: the notice's {身份证号} names
    cannot name them, and a 采集码 school's package must still be deliverable
    with the default settings.
    """
    names: list[str] = []
    problems: list[str] = []
    seen: dict[str, Photo] = {}
    for photo in photos:
        try:
            try:
                name = fields.render_file_name(template, photo)
            except ValueError:
                if not without_id or (photo.student.id_number or "").strip():
                    raise
                name = fields.render_file_name(without_id, photo)
        except ValueError as exc:
            problems.append(f"{_who(photo)}: {exc}")
            names.append("")
            continue
        folded = name.casefold()  # Windows and discs do not tell case apart
        if folded in seen:
            problems.append(f"{_who(photo)} and {_who(seen[folded])} would both be {name}")
        seen[folded] = photo
        names.append(name)
    if problems:
        shown = "\n  ".join(problems[:8])
        more = f"\n  … and {len(problems) - 8} more" if len(problems) > 8 else ""
        raise ExportError(
            f"the file-name template {template!r} does not give every photo its own name:\n  "
            f"{shown}{more}\n"
            "Fix the students' records, or set export.file_name to a template that fits "
            "(e.g. {学号}.jpg, or {学号}_{身份证号}.jpg), or export one session (--session)."
        )
    return names


def _who(photo: Photo) -> str:
    s = photo.student
    number = f"学号 {s.student_number}" if s.student_number else f"拍摄序号 {photo.take.seq}"
    return f"{s.name or '(无姓名)'} ({number})"


def write_package(
    package: Package,
    out_root: Path,
    settings: ExportConfig,
    *,
    progress: Progress | None = None,
) -> PackageResult:
    started = time.perf_counter()
    try:
        fields.check_settings(settings)
    except ConfigError as exc:
        raise ExportError(str(exc)) from exc
    advance = progress or (lambda n: None)
    names = file_names(package.photos, settings.file_name, settings.file_name_without_id)
    try:
        font = fonts.cjk_font(settings.font or None)
    except fonts.FontNotFound as exc:
        raise ExportError(str(exc)) from exc
    warnings = _glyph_warnings(package, settings, font)

    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out_root}: {exc.strerror or exc}") from exc
    final = out_root / package.folder
    if final.exists() and not (final / SUMS).is_file():
        raise ExportError(
            f"{final} exists but is not a package written by kiosk export (it has no {SUMS}); "
            "move it away or choose another --out"
        )
    _remove_stale(out_root, package.folder)
    work = out_root / f".{package.folder}.partial-{os.getpid()}"
    try:
        digests = _write_all(package, names, work, settings, font, advance)
        sums = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))
        (work / SUMS).write_text(sums, encoding="utf-8", newline="\n")
        flush_filesystem(work)  # every file on disk before the rename makes it visible
        _swap_into_place(work, final)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise ExportError(
            f"cannot write the package in {out_root}: {exc.strerror or exc}"
            f"{f' ({exc.filename})' if exc.filename else ''}; "
            "check the free space and that the folder is writable"
        ) from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
    grid = proofs.layout(settings.paper, settings.columns, settings.rows, len(settings.captions))
    return PackageResult(
        package=package,
        path=final,
        pages=proofs.page_count(group_sizes(package), grid.per_page),
        bytes=size,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _glyph_warnings(
    package: Package, settings: ExportConfig, font: fonts.FontFile
) -> tuple[str, ...]:
    """Students whose captions have characters the font cannot draw."""
    captions = {
        id(photo): "".join(fields.caption_lines(photo, settings.captions))
        for photo in package.photos
    }
    headers = [package.school_name, package.scope] + [
        f"{p.student.category}{p.student.department}" for p in package.photos
    ]
    missing = fonts.missing_characters(font, [*captions.values(), *headers])
    if not missing:
        return ()
    affected = [p for p in package.photos if missing & set(captions[id(p)])]
    shown = ", ".join(_who(p) for p in affected[:8])
    more = f" and {len(affected) - 8} more" if len(affected) > 8 else ""
    chars = " ".join(f"{ch} (U+{ord(ch):04X})" for ch in sorted(missing))
    return (
        f"the font {font.path.name} has no glyph for {chars}; proofs.pdf leaves a gap there "
        f"for {shown}{more}. The photos and sheets are right; tell the school to check "
        "these against index.xlsx, or set export.font to a font that has the character.",
    )


def _write_all(
    package: Package,
    names: list[str],
    work: Path,
    settings: ExportConfig,
    font: fonts.FontFile,
    advance: Progress,
) -> dict[str, str]:
    """Write every file into ``work``; returns relative path -> SHA-256."""
    (work / PHOTOS).mkdir(parents=True)
    digests: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        (work / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
        advance(1)

    copies = _deliver_photos(package, names, work / PHOTOS, settings, advance)
    for name, (digest, _) in zip(names, copies, strict=True):
        digests[f"{PHOTOS}/{name}"] = digest

    groups = _proof_groups(package, [copy for _, copy in copies], settings)
    del copies
    put(
        "proofs.pdf",
        proofs.render(
            school=f"{package.school_name}（{package.school_code}）",
            scope="" if package.scope == "全校" else package.scope,
            groups=groups,
            font=font,
            stamp=package.stamp,
            paper=settings.paper,
            columns=settings.columns,
            rows=settings.rows,
            caption_lines=len(settings.captions),
            on_page=lambda: advance(1),
        ),
    )
    index = sheets.index_rows(package.photos)
    stamp = package.stamp
    put(
        "index.xlsx",
        sheets.xlsx_bytes(sheets.Sheet("照片索引", sheets.INDEX_HEADERS, index), stamp),
    )
    put("index.csv", sheets.csv_bytes(sheets.INDEX_HEADERS, index))
    for file, title, headers, rows in (
        ("missing.xlsx", "缺拍名单", sheets.MISSING_HEADERS, sheets.missing_rows(package)),
        ("retakes.xlsx", "重拍名单", sheets.RETAKE_HEADERS, sheets.retake_rows(package)),
        ("errata.xlsx", "勘误表", sheets.ERRATA_HEADERS, sheets.errata_rows(package)),
    ):
        put(file, sheets.xlsx_bytes(sheets.Sheet(title, headers, rows), stamp))
    return digests


def _deliver_photos(
    package: Package,
    names: list[str],
    target: Path,
    settings: ExportConfig,
    advance: Progress,
) -> list[tuple[str, bytes]]:
    """Copy each photo (checked, metadata stripped); returns (SHA-256, proof copy) each.

    Threads: reading, hashing (hashlib) and JPEG decoding/encoding (Pillow)
    release the GIL, so the work spreads over the cores.
    """
    workers = settings.workers or os.cpu_count() or 1

    def deliver(job: tuple[Photo, str]) -> tuple[str, bytes] | str:
        photo, name = job
        try:
            return _deliver_one(photo, target / name, settings)
        except _PhotoProblem as problem:
            return f"{_who(photo)}: {problem}"

    results: list[tuple[str, bytes] | str] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
        for result in pool.map(deliver, zip(package.photos, names, strict=True)):
            results.append(result)
            advance(1)  # here, not in the workers: progress bars are not thread-safe
    problems = [r for r in results if isinstance(r, str)]
    if problems:
        shown = "\n  ".join(problems[:8])
        more = f"\n  … and {len(problems) - 8} more" if len(problems) > 8 else ""
        raise ExportError(
            f"{len(problems)} stored photo(s) cannot be delivered:\n  {shown}{more}\n"
            "Nothing was exported. Restore the data folder from its backup (or the central "
            "server's copy), or retake these students."
        )
    return [r for r in results if not isinstance(r, str)]


class _PhotoProblem(Exception):
    pass


def _deliver_one(photo: Photo, destination: Path, settings: ExportConfig) -> tuple[str, bytes]:
    from PIL import Image

    source = photo.take.source
    if source is None:
        raise _PhotoProblem("no stored file for this photo")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise _PhotoProblem(f"cannot read {source} ({exc.strerror or exc})") from exc
    if photo.take.sha256 and hashlib.sha256(data).hexdigest() != photo.take.sha256:
        raise _PhotoProblem(
            f"{source} has changed or is damaged since it was taken (SHA-256 differs)"
        )
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "JPEG":
            raise _PhotoProblem(f"{source} is {image.format}, not JPEG")
        if image.size != tuple(settings.photo_size):
            w, h = settings.photo_size
            raise _PhotoProblem(
                f"{source} is {image.size[0]} x {image.size[1]}, not the official {w} x {h}"
            )
        copy = _proof_copy(image, settings.proof_photo_width, settings.proof_jpeg_quality)
    except (OSError, SyntaxError, ValueError) as exc:
        raise _PhotoProblem(f"{source} is not a readable JPEG ({exc})") from exc
    delivered = strip_metadata(data)
    destination.write_bytes(delivered)
    if delivered is data and photo.take.sha256:
        return photo.take.sha256, copy  # unchanged: the digest checked above
    return hashlib.sha256(delivered).hexdigest(), copy


def _proof_copy(image: object, width: int, quality: int) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    w, h = image.size
    size = (width, round(width * h / w))
    image.draft("RGB", size)  # DCT scaling: decode straight at 1/2, 1/4 ... of the size
    small = image.convert("RGB")
    if small.size != size:
        small = small.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=quality, optimize=False)
    return out.getvalue()


def strip_metadata(jpeg: bytes) -> bytes:
    """The JPEG without EXIF/XMP/IPTC/comment segments; other bytes unchanged.

    Walks the marker segments up to the start of scan; after that the data is
    entropy-coded image and is copied as is.
    """
    if jpeg[:2] != b"\xff\xd8":
        return jpeg
    out = bytearray(jpeg[:2])
    position = 2
    changed = False
    while position + 4 <= len(jpeg):
        if jpeg[position] != 0xFF:
            return jpeg  # not a marker where one must be: leave the file alone
        marker = jpeg[position + 1]
        if marker == 0xFF:  # fill byte
            out.append(0xFF)
            position += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan / end of image
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            out += jpeg[position : position + 2]
            position += 2
            continue
        length = int.from_bytes(jpeg[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(jpeg):
            return jpeg
        if marker in _METADATA_MARKERS:
            changed = True
        else:
            out += jpeg[position:end]
        position = end
    if not changed:
        return jpeg
    out += jpeg[position:]
    return bytes(out)


def group_sizes(package: Package) -> list[int]:
    """Photos per proof group, in order (the photos are sorted by group)."""
    sizes: dict[tuple[object, str], int] = {}
    for photo in package.photos:
        key = group_key(photo.student)
        sizes[key] = sizes.get(key, 0) + 1
    return list(sizes.values())


def _proof_groups(
    package: Package, copies: Sequence[bytes], settings: ExportConfig
) -> list[proofs.ProofGroup]:
    grouped: dict[tuple[object, str], list[tuple[Photo, bytes]]] = {}
    for photo, copy in zip(package.photos, copies, strict=True):
        grouped.setdefault(group_key(photo.student), []).append((photo, copy))
    groups = []
    for members in grouped.values():
        first = members[0][0].student
        dates = sorted({p.take.session_date for p, _ in members if p.take.session_date})
        items = [
            proofs.ProofItem(
                tuple(
                    fields.caption_lines(
                        photo,
                        settings.captions,
                        mask=settings.mask_id_number,
                        keep_start=settings.mask_keep_start,
                        keep_end=settings.mask_keep_end,
                    )
                ),
                copy,
            )
            for photo, copy in members
        ]
        groups.append(proofs.ProofGroup(first.category, first.department, _dates(dates), items))
    return groups


def _dates(dates: list[str]) -> str:
    if len(dates) <= 3:
        return "、".join(dates)
    return f"{dates[0]} 至 {dates[-1]}"


def _remove_stale(out_root: Path, folder: str) -> None:
    """Delete partial folders of this package left by exports that died."""
    for path in out_root.glob(f".{folder}.partial-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(path, ignore_errors=True)
    for path in out_root.glob(f".{folder}.old-*"):
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_into_place(work: Path, final: Path) -> None:
    """Rename the finished folder into place, replacing an earlier package."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.rename(final, old)
    os.rename(work, final)
    fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def flush_filesystem(path: Path) -> None:
    """Write out the filesystem holding ``path`` (syncfs(2)), e.g. only the USB
    stick the package goes to; ``os.sync()`` (every disk) where syncfs is missing."""
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = getattr(libc, "syncfs", None)
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)
