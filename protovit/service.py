"""What a server needs around a ProtoViT run: safe decoding of uploads, a cap on concurrent explanations, and
training the default run in the background with readable progress.

Uploads come from anyone who reaches the page, so they are checked before any pixel is decoded:

- only PNG and JPEG, recognised by their content (magic bytes and PIL's format), never by the file name;
- at most :data:`MAX_UPLOAD_BYTES` bytes and :data:`MAX_UPLOAD_PIXELS` pixels, read from the file's header by
  this module *before* PIL sees it: a PNG of 20000 x 20000 pixels compresses to a few kilobytes but would decode
  to 1.2 GB;
- PIL's own decompression-bomb errors and truncated files become a clear :class:`UploadError`;
- JPEGs are decoded at a reduced scale (``draft``) and every image is shrunk to :data:`WORKING_SIDE` pixels at
  most right after decoding, so one explanation holds at most one capped image in memory;
- :class:`ExplanationGate` lets at most ``K`` explanations run at once per process; the next one gets a "busy"
  answer instead of queueing memory.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_UPLOAD_PIXELS = 25_000_000  # 25 megapixels: 75 MB decoded as RGB, above any phone photo
WORKING_SIDE = 1024  # the model sees at most a few hundred pixels; larger views only cost memory
MAX_CONCURRENT_EXPLANATIONS = int(os.environ.get("PROTOVIT_MAX_EXPLANATIONS", "2"))
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
ROOT = Path(__file__).resolve().parents[1]


class UploadError(ValueError):
    """An upload that is not a usable PNG or JPEG image; ``reason`` is one of "bytes", "format", "pixels", "bomb",
    "damaged" (for translated messages), the message says why in plain English."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class BusyError(RuntimeError):
    """Too many explanations are running in this process; try again in a moment."""


def open_upload(
    data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS
) -> Image.Image:
    """Decode an uploaded PNG or JPEG safely (see the module docstring); returns an RGB image."""
    if len(data) > max_bytes:
        raise UploadError("bytes", f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    kind = next((name for magic, name in _SIGNATURES.items() if data.startswith(magic)), None)
    if kind is None:
        raise UploadError("format", "only PNG and JPEG images are accepted")
    width, height = declared_size(data, kind)
    if width * height > max_pixels:
        raise UploadError(
            "pixels",
            f"the image has {width} x {height} pixels; at most {max_pixels // 1_000_000} megapixels are accepted",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format != kind or image.size != (width, height):
                raise UploadError("damaged", "the file is damaged or is not a readable image")
            if kind == "JPEG":
                image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
            image = image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise UploadError("bomb", "the image is too large to decode safely") from err
    except (OSError, SyntaxError, ValueError) as err:
        if isinstance(err, UploadError):
            raise
        raise UploadError("damaged", "the file is damaged or is not a readable image") from err
    image.thumbnail((WORKING_SIDE, WORKING_SIDE))
    return image


_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def declared_size(data: bytes, kind: str) -> tuple[int, int]:
    """(width, height) written in a PNG's IHDR or a JPEG's frame header, read from the bytes without PIL, so the
    pixel cap applies before any library allocates or decodes anything."""
    if kind == "PNG":
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise UploadError("damaged", "the file is damaged or is not a readable image")
        return struct.unpack(">II", data[16:24])
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    raise UploadError("damaged", "the file is damaged or is not a readable image")


class ExplanationGate:
    """At most ``limit`` explanations at once in this process; the next caller gets :class:`BusyError` at once."""

    def __init__(self, limit: int = MAX_CONCURRENT_EXPLANATIONS) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise BusyError(f"{self.limit} explanations are already running")
        try:
            yield
        finally:
            self._slots.release()


@dataclass(frozen=True)
class TrainingProgress:
    """Where a background training run stands: stage k of n, share of the run's optimizer steps done."""

    running: bool
    stage: str
    stage_number: int
    stages: int
    fraction: float
    failed: bool = False


def read_progress(run_dir: Path) -> dict | None:
    path = Path(run_dir) / "progress.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


class BackgroundTraining:
    """Trains the default run (configs/protovit_cpu.toml, or ``config``) in a separate, low-priority process.

    One process per run folder across server processes and replicas: a lock file created with O_EXCL holds the
    trainer's process id; other servers only read the progress. The trainer resumes an interrupted run.
    """

    def __init__(self, images: Path, run_dir: Path, config: Path | None = None) -> None:
        self.images, self.run_dir, self.config = Path(images), Path(run_dir), config
        self.lock = self.run_dir / "training.lock"
        self._process: subprocess.Popen | None = None

    def start(self) -> bool:
        """Start training unless a trainer already holds the lock; True when this call started it."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.lock.exists() and _alive(self.lock):
            return False
        self.lock.unlink(missing_ok=True)
        try:
            handle = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        command = [sys.executable, str(ROOT / "scripts" / "train_protovit.py"), "--data", str(self.images),
                   "--out", str(self.run_dir), "--no-progress"]  # fmt: skip
        if self.config is not None:
            command += ["--config", str(self.config)]
        log = open(self.run_dir / "background.log", "ab")  # noqa: SIM115 (the child process owns it)
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=lambda: os.nice(10)
        )
        os.write(handle, str(self._process.pid).encode())
        os.close(handle)
        threading.Thread(target=self._release_when_done, name="protovit-training", daemon=True).start()
        return True

    def _release_when_done(self) -> None:
        if self._process is not None:
            self._process.wait()
            self.lock.unlink(missing_ok=True)

    def progress(self) -> TrainingProgress:
        running = self.lock.exists() and _alive(self.lock)
        data = read_progress(self.run_dir) or {}
        failed = not running and not (self.run_dir / "model.safetensors").exists() and bool(data)
        return TrainingProgress(
            running=running,
            stage=data.get("stage", ""),
            stage_number=int(data.get("stage_index", 0)) + 1,
            stages=int(data.get("stages", 6)),
            fraction=float(data.get("fraction", 0.0)),
            failed=failed,
        )


def _alive(lock: Path) -> bool:
    try:
        pid = int(lock.read_text(encoding="utf-8") or "0")
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return pid > 0
