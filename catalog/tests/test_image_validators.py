"""Uploaded product images and category icons: real type, size and dimension checks."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice.tests.images import image_bytes
from catalog.tests.factories import CategoryFactory, MedicineFactory
from catalog.validators import validate_icon, validate_image, validate_svg

SAFE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 24 24">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#0a0"/></linearGradient></defs>'
    b'<path d="M0 0h24v24H0z" fill="url(#g)"/><use xlink:href="#g"/></svg>'
)


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize("fmt, name", [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp")])
def test_jpeg_png_and_webp_images_are_accepted(fmt, name):
    validate_image(upload(image_bytes(fmt), name))


def test_a_gif_is_refused_even_though_pillow_reads_it():
    with pytest.raises(ValidationError) as error:
        validate_image(upload(image_bytes("GIF"), "a.png"))
    assert error.value.code == "image_format"


def test_a_text_file_named_like_an_image_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_image(upload(b"<?php echo 1; ?>" * 10, "photo.jpg"))
    assert error.value.code == "image_invalid"


def test_a_truncated_png_is_refused():
    data = image_bytes("PNG")
    with pytest.raises(ValidationError) as error:
        validate_image(upload(data[: len(data) // 2], "half.png"))
    assert error.value.code == "image_invalid"


def test_an_image_over_the_byte_limit_is_refused(settings):
    settings.IMAGE_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as error:
        validate_image(upload(image_bytes("PNG", size=(400, 400)) + b"\0" * 1000, "big.png"))
    assert error.value.code == "file_too_large"


def test_an_image_wider_than_the_limit_is_refused(settings):
    settings.IMAGE_MAX_PIXELS_SIDE = 500
    with pytest.raises(ValidationError) as error:
        validate_image(upload(image_bytes("PNG", size=(501, 10)), "wide.png"))
    assert error.value.code == "image_too_big"


def test_a_plain_drawing_svg_icon_is_accepted():
    validate_icon(upload(SAFE_SVG, "pill.svg"))


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><path d="M0 0"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div/></foreignObject></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<use x:href="https://evil.example/x.svg#a"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><path d="M0 0"/></a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><path style="fill:url(https://evil.example/t)" d="M0 0"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>',
        b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        b"<html><body>not an svg</body></html>",
        b"<svg",
    ],
)
def test_svg_that_could_run_code_or_fetch_anything_is_refused(svg):
    with pytest.raises(ValidationError):
        validate_svg(svg)


def test_a_raster_category_icon_is_checked_like_a_product_image():
    with pytest.raises(ValidationError):
        validate_icon(upload(b"not an image at all", "icon.png"))


@pytest.mark.django_db
def test_the_medicine_form_refuses_a_forged_image_on_full_clean():
    medicine = MedicineFactory()
    medicine.image = upload(b"GIF89a-not-really", "forged.jpg")

    with pytest.raises(ValidationError) as error:
        medicine.full_clean()

    assert "image" in error.value.message_dict


@pytest.mark.django_db
def test_the_category_form_refuses_a_scripted_svg_icon_on_full_clean():
    category = CategoryFactory()
    category.icon = upload(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "x.svg")

    with pytest.raises(ValidationError) as error:
        category.full_clean()

    assert "icon" in error.value.message_dict
