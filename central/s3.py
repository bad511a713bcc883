"""Photos in an S3-compatible bucket (a cloud OSS, Ceph RGW, SeaweedFS), through boto3.

The same contract as the folder (central/local.py): a photo's key is its
sha256, and it is written only after the bytes received hash to that sha256.
The write is a conditional create (``If-None-Match: *``) so two receivers
racing on one photo store it once; a store that does not support the
condition gets a plain put of the very same bytes, which changes nothing.
Every put carries the SHA-256 checksum, so the store itself refuses bytes
damaged on the way. ``check`` reads the object back: the purge guarantee
("the receiver holds these bytes") rests on a read, never on a flag.

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_SHARED_CREDENTIALS_FILE, ~/.aws), never from the
command line.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
import threading
import time
import uuid as uuid_module
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from central.storage import DigestingUpload, held_problem
from kiosk.durable import make_dirs_durably
from kiosk.sync import protocol

PREFIX = "photos/"
SPOOL_BYTES = 1024 * 1024  # photos are 30-60 KB; a larger one spills to a temp file
# The local copies the export and the pages read. A whole campaign is ~6 GB
# (143,000 photos of ~40 KB); 2 GB holds the largest school's package many
# times over. Copies used in the last hour are never dropped: an export that
# resolved a path reads the file minutes later.
CACHE_LIMIT_BYTES = 2 << 30
CACHE_KEEP_SECONDS = 3600.0


def trim_cache(folder: Path, limit: int, keep_seconds: float, now: float | None = None) -> int:
    """Drop the least recently used copies until ``folder`` holds at most
    ``limit`` bytes, never one used within ``keep_seconds``; returns bytes freed.

    Use is the file's mtime: :meth:`S3PhotoStore.path` touches a copy it hands out.
    """
    now = time.time() if now is None else now
    copies = []
    for file in folder.glob("??/*.jpg"):
        with contextlib.suppress(FileNotFoundError):
            stat = file.stat()
            copies.append((stat.st_mtime, stat.st_size, file))
    total = sum(size for _, size, _ in copies)
    freed = 0
    for used, size, file in sorted(copies):
        if total - freed <= limit or now - used < keep_seconds:
            break
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
            freed += size
    return freed


def _key(sha256: str) -> str:
    if not protocol.SHA256_RE.fullmatch(sha256):  # never a key from unchecked input
        raise ValueError("not a sha256")
    return f"{PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}.jpg"


def _status(exc: Exception) -> int:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3PhotoStore:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str | None,
        region: str | None,
        cache_dir: Path,
        max_connections: int = 32,
        cache_limit: int = CACHE_LIMIT_BYTES,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.cache = cache_dir
        self.cache_limit = cache_limit
        self._cache_added = 0  # bytes copied in since the last trim
        self._cache_lock = threading.Lock()
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            config=Config(
                max_pool_connections=max_connections,
                retries={"max_attempts": 5, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )
        self.conditional = True  # until the store says it cannot
        from botocore.exceptions import ClientError

        self.client_error = ClientError
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            raise LookupError(
                f"bucket {bucket!r} cannot be used ({exc}); create it (with versioning on, "
                "docs/scale.md) and check the AWS credentials"
            ) from None

    def size(self, sha256: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=_key(sha256))
        except self.client_error as exc:
            if _status(exc) == 404:
                return None
            raise
        return int(head["ContentLength"])

    def read(self, sha256: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_key(sha256))
        except self.client_error as exc:
            if _status(exc) == 404:
                raise FileNotFoundError(sha256) from None
            raise
        data: bytes = answer["Body"].read()
        return data

    def path(self, sha256: str) -> Path:
        """A verified local copy (the export and the pages read files)."""
        final = self.cache / sha256[:2] / f"{sha256}.jpg"
        with contextlib.suppress(FileNotFoundError):
            os.utime(final)  # used now: kept by the trim
            return final
        data = self.read(sha256)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError(f"photo {sha256[:12]}… in the bucket does not hash to its name")
        make_dirs_durably(final.parent)
        temp = final.with_suffix(f".{uuid_module.uuid4().hex}.part")
        temp.write_bytes(data)
        os.replace(temp, final)
        self._copied(len(data))
        return final

    def _copied(self, size: int) -> None:
        """Trim the cache after every tenth of its limit copied in (a scan of
        the folder is not free; between trims it may overshoot by that much)."""
        with self._cache_lock:
            self._cache_added += size
            if self._cache_added < self.cache_limit // 10:
                return
            self._cache_added = 0
        trim_cache(self.cache, self.cache_limit, CACHE_KEEP_SECONDS)

    def check(self, sha256: str, size: int) -> str | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_key(sha256))
        except self.client_error as exc:
            if _status(exc) == 404:
                return "missing"
            return f"unreadable ({exc})"
        digest = hashlib.sha256()
        held = 0
        for chunk in answer["Body"].iter_chunks(1 << 16):
            digest.update(chunk)
            held += len(chunk)
        return held_problem(held, digest.hexdigest(), sha256, size)

    def digests(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=PREFIX
        )
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"].rsplit("/", 1)[-1].removesuffix(".jpg")
                if protocol.SHA256_RE.fullmatch(name):
                    yield name, item["LastModified"].timestamp()

    def remove(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_key(sha256))
        with contextlib.suppress(FileNotFoundError):
            (self.cache / sha256[:2] / f"{sha256}.jpg").unlink()

    def begin(self) -> S3Upload:
        return S3Upload(self)

    def clean_temporary(self) -> int:
        """Nothing is half-written in a bucket: a put is whole or absent."""
        return 0

    def put(self, sha256: str, body: IO[bytes], *, conditional: bool) -> bool:
        """Store verified bytes; False if the object was there already (condition failed)."""
        extra: dict[str, Any] = {}
        if conditional:
            extra["IfNoneMatch"] = "*"
        body.seek(0)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=_key(sha256),
                Body=body,
                ContentType="image/jpeg",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode("ascii"),
                **extra,
            )
        except self.client_error as exc:
            status = _status(exc)
            if conditional and status in (409, 412):
                return False  # another receiver stored it first
            if conditional and status in (400, 501):
                # The store does not know the condition: identical bytes, plain put.
                self.conditional = False
                return self.put(sha256, body, conditional=False)
            raise
        return True


class S3Upload(DigestingUpload):
    def __init__(self, store: S3PhotoStore) -> None:
        self.store = store
        super().__init__(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115

    def finish(self, sha256: str) -> bool:
        try:
            self.verify(sha256)
            if not self.store.conditional and self.store.size(sha256) is None:
                return self.store.put(sha256, self.file, conditional=False)
            # Usually new: the conditional create is the existence check too.
            if self.store.conditional and self.store.put(sha256, self.file, conditional=True):
                return True
            if self.store.check(sha256, self.length) is None:
                return False  # held intact already (or stored by another receiver just now)
            # The held copy is damaged (found by verify or a reconcile): these
            # verified bytes replace it.
            return self.store.put(sha256, self.file, conditional=False)
        finally:
            self.abort()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
