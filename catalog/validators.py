"""Upload checks for product images and category icons.

An uploaded image must really be a JPEG, PNG or WEBP (Pillow reads and
verifies it: the file name proves nothing), no larger than
``IMAGE_MAX_BYTES`` and no wider or taller than ``IMAGE_MAX_PIXELS_SIDE``
(a small file can still decode to gigabytes of pixels).

Category icons may also be SVG, which is a document that browsers run
scripts in: an SVG is accepted only if it is made of drawing elements alone
(an allow-list), with no script, event handler, foreign content, entity
declaration or link leaving the file. Anything else is refused, not rewritten:
a cleaned file that no longer looks like what the user uploaded helps nobody.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

ALLOWED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SVG_ALLOWED_TAGS = frozenset(
    {
        "svg",
        "g",
        "path",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "rect",
        "defs",
        "use",
        "symbol",
        "title",
        "desc",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "metadata",
    }
)
# url(#id) is the only url() an icon needs (gradients, clip paths).
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def _read_head(file, size: int) -> bytes:
    file.seek(0)
    data = file.read(size)
    file.seek(0)
    return data


def _already_stored(value) -> bool:
    # A FieldFile that is already in storage was checked when it was uploaded:
    # re-reading it from S3 on every save of the form would be waste.
    return getattr(value, "_committed", False) is True


def _check_size(file) -> None:
    limit = settings.IMAGE_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s."),
            code="file_too_large",
            params={"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
        )


@deconstructible
class RasterImageValidator:
    """A JPEG, PNG or WEBP within the size and dimension limits."""

    def __call__(self, value) -> None:
        if _already_stored(value):
            return
        _check_size(value)
        max_side = settings.IMAGE_MAX_PIXELS_SIDE
        value.seek(0)
        try:
            with Image.open(value) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in ALLOWED_IMAGE_FORMATS:
                    raise ValidationError(_("Upload a JPEG, PNG or WEBP image."), code="image_format")
                if width > max_side or height > max_side:
                    raise ValidationError(
                        _("The image is %(width)s×%(height)s pixels; at most %(max)s on each side."),
                        code="image_too_big",
                        params={"width": width, "height": height, "max": max_side},
                    )
                # verify() walks the whole file: a truncated or forged one fails here.
                image.verify()
        except ValidationError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise ValidationError(_("The file is not a readable image."), code="image_invalid") from exc
        finally:
            value.seek(0)

    def __eq__(self, other) -> bool:
        return isinstance(other, RasterImageValidator)


def validate_svg(data: bytes) -> None:
    """Refuse an SVG that could run code or fetch anything (see the module docstring)."""
    if re.search(rb"<!(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise ValidationError(_("SVG with DOCTYPE or entity declarations is not accepted."), code="svg_unsafe")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValidationError(_("The SVG file is not well-formed."), code="svg_invalid") from exc
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise ValidationError(_("The file is not an SVG image."), code="svg_invalid")
    for element in root.iter():
        tag = element.tag
        namespace, _sep, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if namespace not in ("", SVG_NS) or local not in SVG_ALLOWED_TAGS:
            raise ValidationError(
                _("SVG element <%(tag)s> is not allowed in an icon."), code="svg_unsafe", params={"tag": local}
            )
        for name, attr_value in element.attrib.items():
            attr = name.rpartition("}")[2].lower()
            if attr.startswith("on"):
                raise ValidationError(_("SVG event handlers are not allowed."), code="svg_unsafe")
            if attr == "href" and not attr_value.strip().startswith("#"):
                raise ValidationError(_("An SVG icon may not link outside itself."), code="svg_unsafe")
            if _EXTERNAL_URL.search(attr_value) or "javascript:" in attr_value.lower():
                raise ValidationError(_("An SVG icon may not link outside itself."), code="svg_unsafe")


@deconstructible
class IconValidator:
    """A category icon: a safe SVG, or a raster image like a product picture."""

    def __call__(self, value) -> None:
        if _already_stored(value):
            return
        _check_size(value)
        name = (getattr(value, "name", "") or "").lower()
        if name.endswith(".svg"):
            validate_svg(_read_head(value, settings.IMAGE_MAX_BYTES + 1))
        else:
            RasterImageValidator()(value)

    def __eq__(self, other) -> bool:
        return isinstance(other, IconValidator)


validate_image = RasterImageValidator()
validate_icon = IconValidator()
