"""A service's refusal met while the admin saves a form, shown as a message instead of an error page."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect

from catalog.exceptions import CatalogError


class ServiceRefusalsAsMessages:
    """Turns a ``CatalogError`` raised while a change form saves into a message on the same page.

    The forms ask the services' rules before saving, but a rule can be met
    between the check and the write (a first stock movement arrives while a
    medicine's parts per pack is being changed; a transfer is sent in another
    tab while its draft is edited). Django saves a change form in one
    transaction, so the exception has rolled everything back by the time it
    reaches this method: nothing changed, and the page says why.
    """

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except CatalogError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
