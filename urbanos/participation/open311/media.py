"""Photos of service requests, made safe before anything is stored: decoded (only JPEG, PNG and WebP), scaled to at
most ``MAX_SIDE`` pixels, faces and number plates found with OpenCV's bundled Haar cascades (``frontalface_default``
and ``russian_plate_number``) and blurred, and encoded again as JPEG, which drops every EXIF and other metadata
segment of the upload (location, camera, owner)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from urbanos.errors import PayloadTooLarge, UnsupportedMediaType

MAX_SIDE = 1600
MAX_PIXELS = 50_000_000  # refused before decoding: a small file that decodes to a huge bitmap
_MAGIC = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"RIFF", "webp"))
_lock = threading.Lock()
_cascades: dict[str, Any] = {}


@dataclass(frozen=True)
class SafeImage:
    data: bytes
    width: int
    height: int
    faces: int
    plates: int


def _cascade(name: str) -> Any:
    import cv2  # heavy: loaded on the first photo

    with _lock:
        if name not in _cascades:
            _cascades[name] = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
        return _cascades[name]


def _kind(data: bytes) -> str:
    for magic, kind in _MAGIC:
        if data.startswith(magic) and (kind != "webp" or data[8:12] == b"WEBP"):
            return kind
    raise UnsupportedMediaType("The upload is not a JPEG, PNG or WebP image.")


def _blur(img: Any, boxes: Any) -> int:
    import cv2

    n = 0
    for (x, y, w, h) in boxes:
        pad_w, pad_h = w // 6, h // 6
        x0, y0 = max(0, x - pad_w), max(0, y - pad_h)
        x1, y1 = min(img.shape[1], x + w + pad_w), min(img.shape[0], y + h + pad_h)
        region = img[y0:y1, x0:x1]
        small = cv2.resize(region, (max(1, (x1 - x0) // 12), max(1, (y1 - y0) // 12)), interpolation=cv2.INTER_AREA)
        img[y0:y1, x0:x1] = cv2.GaussianBlur(cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR),
                                             (0, 0), max(2, (x1 - x0) // 10))
        n += 1
    return n


def make_safe(data: bytes, max_bytes: int) -> SafeImage:
    """The photo without metadata, faces and number plates blurred, as JPEG; 413 when over ``max_bytes``, 415
    when it is no image."""
    import cv2
    import numpy as np

    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The photo is larger than {max_bytes} bytes (setting participation_media_max_bytes).")
    _kind(data)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise UnsupportedMediaType("The upload could not be read as an image.")
    h, w = img.shape[:2]
    if w * h > MAX_PIXELS:
        raise PayloadTooLarge(f"The photo has more than {MAX_PIXELS} pixels.")
    scale = MAX_SIDE / max(w, h)
    if scale < 1:
        img = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    faces = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(gray, 1.1, 5, minSize=(20, 20))
    plates = _cascade("haarcascade_russian_plate_number.xml").detectMultiScale(gray, 1.1, 4, minSize=(30, 10))
    nf = _blur(img, faces)
    np_ = _blur(img, plates)
    ok, out = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise UnsupportedMediaType("The image could not be encoded again.")
    return SafeImage(bytes(out.tobytes()), int(img.shape[1]), int(img.shape[0]), nf, np_)


__all__ = ["make_safe", "SafeImage", "MAX_SIDE"]
