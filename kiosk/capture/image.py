"""Read any photo file into the RGB array the quality check expects.

``kiosk check`` is run on photos from anywhere (phones, scanners, old
archives), so this is the edge where odd files are turned into one shape or
into one clear error: EXIF orientation is applied (a phone photo taken
upright is judged upright), grayscale and CMYK are converted, 16-bit is
scaled down, transparency is flattened on white, and a truncated, empty or
non-image file raises :class:`ImageError` saying what is wrong.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse absurd sizes before decoding (decompression bombs); 50 MP is
# above any camera still the kiosk or a phone makes.
MAX_PIXELS = 50_000_000


class ImageError(ValueError):
    """A file that is not a usable photo; the message says why and what to do."""


def load_rgb(path: Path | str) -> np.ndarray:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    if size == 0:
        raise ImageError(f"{path}: empty file (0 bytes); copy the photo again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # A damaged EXIF block only costs the orientation tag: judge the pixels.
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(path) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise ImageError(
                        f"{path}: {im.width}x{im.height} is larger than {MAX_PIXELS // 1_000_000} MP"
                    )
                im.load()
                return to_rgb(im)
    except ImageError:
        raise
    except PermissionError:
        raise ImageError(f"{path}: permission denied; check the file's owner") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file (or a format Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
        text = str(exc)
        if "truncated" in text or "broken data stream" in text or "image file is" in text:
            raise ImageError(
                f"{path}: the file is truncated or damaged ({text}); copy it again"
            ) from None
        raise ImageError(f"{path}: cannot decode the image ({text})") from None
    except Exception as exc:  # a malformed header or EXIF block can raise anything
        raise ImageError(f"{path}: cannot decode the image ({type(exc).__name__}: {exc})") from None


def to_rgb(im: Image.Image) -> np.ndarray:
    """Upright 8-bit RGB from any Pillow image."""
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) grey: scale the actual range to 8 bits.
        raw = np.asarray(im, dtype=np.float64)
        top = 65535.0 if raw.max() > 255 else 255.0
        grey = np.clip(raw / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if im.mode == "F":
        raw = np.asarray(im, dtype=np.float64)
        top = 1.0 if raw.max() <= 1.0 else 255.0
        grey = np.clip(raw / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return np.asarray(flat)
    if im.mode in ("RGB;16", "RGBA;16") or (im.mode.startswith("RGB") and im.mode != "RGB"):
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im.convert("RGB")))
