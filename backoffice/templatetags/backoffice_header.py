"""The page header's title (Unfold's ``header_title``), for the admin's own pages and for long names.

Unfold ends the header with the model's name on any page that has ``opts`` but
no object, so New import, Export and every other page of our own were headed
"Import log" (or "Lots", "Orders"): ``page_header_title`` ends it with the
page's own title there. ``header_identifier`` lets the header template keep a
record's identifier whole (a lot's number) while the name before it is cut.
"""

from types import SimpleNamespace

from django import template
from unfold.templatetags.unfold import header_title

register = template.Library()

# "Paracetamol 500 mg tablets №10 · E315649": the part after the last separator names the record.
IDENTIFIER_SEPARATOR = " · "
IDENTIFIER_MAX_LENGTH = 30


def _is_own_page(context) -> bool:
    """A page of the model that is neither its list nor one object's page: an add form, or a page of ours."""
    return bool(context.get("opts") and context.get("title")) and not any(
        context.get(name) for name in ("cl", "original", "object")
    )


@register.simple_tag(takes_context=True)
def page_header_title(context) -> str:
    if not _is_own_page(context):
        return header_title(context)
    # Unfold's own branch for a page without opts: the app, the model's list, then the page's title.
    with context.push(
        opts=None, model_admin=SimpleNamespace(model=context["opts"].model), content_title=context["title"]
    ):
        return header_title(context)


@register.filter
def header_identifier(text) -> tuple[str, str]:
    """``"Name · E315649"`` -> ``("Name", "E315649")``; ``("Text", "")`` when there is no short identifier."""
    text = str(text)
    head, separator, tail = text.rpartition(IDENTIFIER_SEPARATOR)
    if separator and head and 0 < len(tail) <= IDENTIFIER_MAX_LENGTH:
        return head, tail
    return text, ""
