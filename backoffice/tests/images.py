"""Small real images made with Pillow for upload tests."""

from io import BytesIO

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 480), color=(200, 30, 60)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()
