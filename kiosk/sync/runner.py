"""The sync loop: form a batch, send it, apply the receipt; back off when offline.

Order per batch (docs/sync-protocol.md): ask which photos the receiver
lacks, PUT those (a few in parallel), PUT the manifest, mark synced exactly
the records the receipt names. A kill at any point leaves a state the next
run resumes from: the open batch is sent again, byte for byte, and the
receiver answers it with the same receipt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from kiosk.config import SyncConfig
from kiosk.lang import Said
from kiosk.store import Store
from kiosk.sync import outbox
from kiosk.sync.client import (
    Offline,
    PhotosMissing,
    ReceiverClient,
    Refused,
    RemoteSummary,
    SetupProblem,
)

# Exit codes of `kiosk sync` (the same rule as every kiosk command).
EXIT_DONE = 0
EXIT_WORK_LEFT = 1
EXIT_SETUP = 2


@dataclass
class RunReport:
    synced: int = 0
    quarantined: int = 0
    batches: int = 0
    photos_sent: int = 0
    bytes_sent: int = 0
    retries: int = 0
    seconds: float = 0.0
    remaining: int = 0
    last_error: str | None = None
    exit_code: int = EXIT_DONE
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("errors")
        return data


class _LocalDamage(Exception):
    def __init__(self, damaged: dict[str, str]) -> None:
        super().__init__(Said.of("sync.local_damage", count=len(damaged)))
        self.damaged = damaged


def said(exc: BaseException) -> str:
    """The error's message, keeping its catalogue key (a :class:`Said`) when it has one."""
    message = exc.args[0] if exc.args else ""
    return message if isinstance(message, Said) else str(exc)


class Syncer:
    """Drains the outbox towards one receiver. ``log`` gets one line per event, a
    :class:`Said` (English as a str; the CLI prints it in the crew's language)."""

    def __init__(
        self,
        store: Store,
        client: ReceiverClient,
        settings: SyncConfig,
        *,
        kiosk_id: str,
        log: Callable[[str], None] = lambda line: None,
        progress: Callable[[RunReport], None] = lambda report: None,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.kiosk_id = kiosk_id
        self.log = log
        self.progress = progress
        self.stop = stop or threading.Event()
        self.rng = rng or random.Random()
        self.pool = ThreadPoolExecutor(max_workers=settings.parallel_uploads)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- the loops -------------------------------------------------------------

    def check_identity(self) -> None:
        """Fail early (exit 2) when the token belongs to another kiosk."""
        try:
            who = self.client.whoami()
        except Refused as exc:
            raise SetupProblem(Said.of("sync.wrong_base_url", detail=said(exc))) from None
        if who != self.kiosk_id:
            raise SetupProblem(Said.of("sync.token_other_kiosk", who=who, me=self.kiosk_id))

    def run(self, *, once: bool) -> RunReport:
        """Drain the outbox. ``once``: give up after ``once_attempts`` failures in a row."""
        report = RunReport()
        started = time.monotonic()
        failures = 0
        identified = False
        try:
            while not self.stop.is_set():
                try:
                    if not identified:
                        self.check_identity()
                        identified = True
                    sent = self.send_next(report)
                except SetupProblem as exc:
                    report.last_error = said(exc)
                    report.exit_code = EXIT_SETUP
                    self.log(Said.of("sync.log.error", detail=said(exc)))
                    break
                except Offline as exc:
                    failures += 1
                    report.retries += 1
                    report.last_error = said(exc)
                    if once and failures >= self.settings.once_attempts:
                        self.log(Said.of("sync.log.gave_up", detail=said(exc), tries=failures))
                        break
                    delay = self._delay(failures, exc.retry_after)
                    self.log(Said.of("sync.log.retry", detail=said(exc), delay=delay))
                    self.stop.wait(delay)
                    continue
                failures = 0
                if not sent:
                    if once:
                        break
                    self.stop.wait(self.settings.poll_interval)
        finally:
            report.seconds = time.monotonic() - started
            report.remaining = outbox.remaining(self.store)
            held_back = outbox.counts(self.store)["quarantined"]
            if report.exit_code != EXIT_SETUP:
                # Quarantined shots are work left too: the crew must look at them.
                left = report.remaining or held_back
                report.exit_code = EXIT_WORK_LEFT if left else EXIT_DONE
        return report

    def _delay(self, failures: int, retry_after: float | None) -> float:
        from kiosk.sync.protocol import backoff_delay

        return backoff_delay(
            failures,
            initial=self.settings.backoff_initial,
            maximum=self.settings.backoff_max,
            retry_after=retry_after,
            rng=self.rng,
        )

    def send_next(self, report: RunReport) -> bool:
        """Send the open batch, or form and send a new one. False: nothing to send."""
        batch = outbox.open_batch(self.store) or outbox.form_batch(
            self.store,
            kiosk_id=self.kiosk_id,
            max_records=self.settings.batch_max_records,
            max_bytes=self.settings.batch_max_bytes,
        )
        if batch is None:
            return False
        try:
            synced, quarantined = self.send(batch, report)
        except Offline as exc:
            outbox.note_failure(self.store, batch.uuid, str(exc))
            raise
        except Refused as exc:
            n = outbox.refuse_batch(self.store, batch.uuid, str(exc))
            report.quarantined += n
            report.errors.append(str(exc))
            report.last_error = said(exc)
            self.log(Said.of("sync.log.refused", batch=batch.uuid[:8], detail=said(exc), count=n))
            return True
        except _LocalDamage as exc:
            outbox.dissolve_batch(self.store, batch.uuid, exc.damaged)
            report.quarantined += len(exc.damaged)
            self.log(Said.of("sync.log.damaged", batch=batch.uuid[:8], detail=said(exc)))
            return True
        report.synced += synced
        report.quarantined += quarantined
        report.batches += 1
        left = outbox.remaining(self.store)
        self.log(
            Said.of(
                "sync.log.batch_quarantined" if quarantined else "sync.log.batch",
                batch=batch.uuid[:8],
                synced=synced,
                quarantined=quarantined,
                left=left,
            )
        )
        report.remaining = left
        self.progress(report)
        return True

    def send(self, batch: outbox.Batch, report: RunReport) -> tuple[int, int]:
        photos = outbox.batch_photos(self.store, batch.uuid)
        by_digest = {p.sha256: p for p in photos}
        missing = self.client.missing(sorted(by_digest))
        self._upload([by_digest[d] for d in missing], report)
        try:
            receipt = self.client.put_batch(batch.uuid, batch.manifest)
        except PhotosMissing as exc:
            # Lost between the question and the commit (a receiver restored
            # from backup, say): upload them and commit once more.
            unknown = [d for d in exc.missing if d not in by_digest]
            if unknown:
                raise Offline(Said.of("sync.asks_foreign_photos")) from None
            self._upload([by_digest[d] for d in exc.missing], report)
            try:
                receipt = self.client.put_batch(batch.uuid, batch.manifest)
            except PhotosMissing:
                raise Offline(Said.of("sync.still_lacks_photos")) from None
        members = set(batch.record_uuids())
        if not set(receipt.held) <= members or not set(receipt.conflicts) <= members:
            raise Offline(Said.of("sync.receipt_foreign"))
        return outbox.apply_receipt(
            self.store, batch.uuid, receipt.held, receipt.conflicts, receipt.kiosk_number
        )

    def _upload(self, photos: list[outbox.Photo], report: RunReport) -> None:
        if not photos:
            return
        damaged: dict[str, str] = {}

        def one(photo: outbox.Photo) -> int:
            path = self.store.data_dir / photo.file
            try:
                data = path.read_bytes()
            except OSError as exc:
                damaged[photo.record_uuid] = f"local photo unreadable: {exc.strerror}"
                return 0
            if hashlib.sha256(data).hexdigest() != photo.sha256:
                damaged[photo.record_uuid] = "local photo does not match its sha256"
                return 0
            self.client.put_photo(photo.sha256, data)
            return len(data)

        futures = [self.pool.submit(one, p) for p in photos]
        first_error: BaseException | None = None
        for future in futures:
            try:
                sent = future.result()
            except BaseException as exc:  # re-raised below, after all uploads settled
                first_error = first_error or exc
                continue
            if sent:
                report.photos_sent += 1
                report.bytes_sent += sent
        if first_error is not None:
            raise first_error
        if damaged:
            raise _LocalDamage(damaged)


def reconcile(store: Store, client: ReceiverClient) -> list[dict[str, object]]:
    """Compare every session with the receiver's; record the results.

    When the records agree but the receiver lacks (or holds damaged) photos
    this kiosk still has, they are sent again and the session is compared
    once more: a reconcile repairs what it can before it reports.
    """
    results = []
    rows = store.conn.execute(
        "SELECT DISTINCT session_id FROM shots WHERE status IN ('accepted', 'flagged') "
        "ORDER BY session_id"
    ).fetchall()
    for (session_id,) in rows:
        tally = outbox.session_tally(store, session_id)
        remote = client.session_summary(tally.session_uuid)
        if remote.unverified and _resend_photos(store, client, session_id, remote.unverified):
            remote = client.session_summary(tally.session_uuid)
        matched = outbox.record_reconciliation(
            store, tally, remote.count, remote.digest, remote.verified
        )
        results.append(
            {
                "session": tally.session_uuid,
                "local_count": tally.count,
                "remote_count": remote.count,
                "remote_verified": remote.verified,
                "matched": matched,
                "reason": None if matched else mismatch_reason(tally, remote),
            }
        )
    return results


def mismatch_reason(tally: outbox.SessionTally, remote: RemoteSummary) -> Said:
    """Why a session does not match, in words for the crew (their language at the CLI)."""
    if remote.count != tally.count:
        return Said.of("sync.mismatch.count", remote=remote.count, local=tally.count)
    if remote.digest != tally.digest:
        return Said.of("sync.mismatch.digest")
    if remote.verified is None:
        return Said.of("sync.mismatch.unproven")
    return Said.of("sync.mismatch.photos", missing=remote.count - remote.verified)


def _resend_photos(
    store: Store, client: ReceiverClient, session_id: int, digests: Iterable[str]
) -> int:
    """Upload again the session's photos the receiver lacks, if this kiosk still has them."""
    wanted = set(digests)
    sent = 0
    for file, sha in store.conn.execute(
        "SELECT file, sha256 FROM shots WHERE session_id = ? AND purged_at IS NULL "
        "AND status IN ('accepted', 'flagged')",
        (session_id,),
    ).fetchall():
        if sha not in wanted:
            continue
        wanted.discard(sha)
        try:
            data = (store.data_dir / file).read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == sha:
            client.put_photo(sha, data)
            sent += 1
    return sent


class PurgeRefused(Exception):
    """The session's photos may not be deleted yet; the message says why."""


def purge_session(store: Store, client: ReceiverClient, session_uuid: str) -> int:
    """Delete a session's local photos once the receiver provably holds them all.

    Checked right now, not from an old reconciliation: every delivered shot
    synced, and the receiver's count and digest equal the kiosk's. Refused
    shots (never delivered) go too: they are faces nobody needs. Returns the
    number of files deleted.
    """
    from kiosk.durable import fsync_dir, now

    row = store.conn.execute("SELECT id FROM sessions WHERE uuid = ?", (session_uuid,)).fetchone()
    if row is None:
        raise PurgeRefused(Said.of("purge.no_session", session=session_uuid))
    session_id = row[0]
    unsynced = store.conn.execute(
        "SELECT count(*) FROM outbox o JOIN shots s ON s.uuid = o.shot_uuid "
        "WHERE s.session_id = ? AND o.state != 'synced'",
        (session_id,),
    ).fetchone()[0]
    if unsynced:
        raise PurgeRefused(Said.of("purge.unsynced", count=unsynced))
    tally = outbox.session_tally(store, session_id)
    # Asked now, just before deleting: the receiver reads every photo of the
    # session back and answers how many it holds intact.
    remote = client.session_summary(session_uuid)
    if not outbox.record_reconciliation(store, tally, remote.count, remote.digest, remote.verified):
        raise PurgeRefused(Said.of("purge.mismatch", reason=mismatch_reason(tally, remote)))
    at = now()
    with store.transaction() as conn:
        files = [
            r[0]
            for r in conn.execute(
                "SELECT file FROM shots WHERE session_id = ? AND purged_at IS NULL "
                "AND (uuid IN (SELECT value FROM json_each(?)) OR status = 'refused')",
                (session_id, json_dumps(tally.uuids)),
            )
        ]
        conn.execute(
            "UPDATE shots SET purged_at = ? WHERE session_id = ? AND purged_at IS NULL "
            "AND (uuid IN (SELECT value FROM json_each(?)) OR status = 'refused')",
            (at, session_id, json_dumps(tally.uuids)),
        )
        store.log_event(
            "session_purged", f"{len(files)} photos deleted after a match", session_id=session_id
        )
    folders = set()
    for relative in files:
        path = store.data_dir / relative
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        folders.add(path.parent)
    for folder in folders:
        if folder.exists():
            fsync_dir(folder)
            with contextlib.suppress(OSError):  # not empty: later shots stay
                folder.rmdir()
                fsync_dir(folder.parent)
    return len(files)


def json_dumps(values: Iterable[str]) -> str:
    return json.dumps(list(values))
