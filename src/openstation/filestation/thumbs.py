"""Thumbnails of images (Pillow), made on request off the event loop.

Sizes are DSM's: small fits 120 px, medium 320, large 640, xl 1280, original is the
image itself re-encoded. A picture larger than 64 megapixels is refused rather than
decoded (a decompression bomb).
"""

from __future__ import annotations

import io

from openstation.filestation.service import FileStation, Item

SIZES = {"small": 120, "medium": 320, "large": 640, "xl": 1280, "original": 0}
MAX_PIXELS = 64_000_000
FORMATS = ["JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP"]  # never EPS (Ghostscript) or others
ROTATIONS = {0: 0, 1: 270, 2: 180, 3: 90, 4: 0}  # DSM's rotate → Pillow's (anticlockwise)


class NotAnImage(Exception):
    """The file is not an image Pillow can read."""


def thumbnail(files: FileStation, item: Item, size: str, rotate: int = 0
              ) -> tuple[bytes, str]:
    """(image bytes, content type) of `item` fitted to `size` (for a thread)."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    edge = SIZES[size]
    try:
        with files.open_plain(item.at) as handle, Image.open(handle, formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:  # refused before it is decoded
                raise NotAnImage(f"{image.width}x{image.height} is too large to show")
            if edge:
                image.draft("RGB", (edge, edge))  # JPEG: decode at a fraction of the size
                image.thumbnail((edge, edge))
            else:
                image.load()
            turned = image.rotate(ROTATIONS.get(rotate, 0), expand=True) \
                if ROTATIONS.get(rotate) else image
            out = io.BytesIO()
            if turned.mode in ("RGBA", "LA", "P"):
                turned.save(out, "PNG")
                return out.getvalue(), "image/png"
            turned.convert("RGB").save(out, "JPEG", quality=85)
            return out.getvalue(), "image/jpeg"
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError) as exc:
        raise NotAnImage(str(exc)) from None
