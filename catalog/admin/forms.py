"""Forms of the catalogue admin: reason prompts, the receipt of a lot, corrections that say why."""

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminIntegerFieldWidget, UnfoldAdminTextareaWidget

from catalog.models import Lot, Medicine
from catalog.services import MEDICINE_CHANGE_REASON, MEDICINE_DETAIL_FIELDS
from catalog.stock import CLOSED_TO_RECEIPTS, LOT_CORRECTION_REASON, LOT_DETAIL_FIELDS, ReasonRule


class LotActionReasonForm(forms.Form):
    """Why a lot is being blocked, released, recalled or written off: kept in the ledger and history."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text=_("Recorded with the change: a supplier notice number, a damaged box, a count..."),
        # A CharField strips its value, so a reason of blanks is "required" too.
        error_messages={"required": _("Say why.")},
    )


class LotWriteOffForm(LotActionReasonForm):
    """Write-off of one lot: how many units, and why."""

    quantity = forms.IntegerField(label=_("Quantity to write off"), min_value=1, widget=UnfoldAdminIntegerFieldWidget)

    field_order = ["quantity", "reason"]

    def __init__(self, *args, lot: Lot, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lot = lot
        field = self.fields["quantity"]
        field.initial = lot.quantity
        field.help_text = _("%(quantity)d on hand.") % {"quantity": lot.quantity}
        field.validators.append(MaxValueValidator(lot.quantity))
        field.widget.attrs["max"] = lot.quantity


class LotReceiveForm(forms.ModelForm):
    """A new lot arrives: its quantity becomes a receipt movement written by ``lot_receive``.

    The same medicine and lot number with the same expiry adds stock to that
    lot (a second delivery of one batch), as ``lot_receive`` does.
    """

    quantity = forms.IntegerField(label=_("Quantity received"), min_value=1, widget=UnfoldAdminIntegerFieldWidget)
    reason = forms.CharField(label=_("Note"), max_length=500, required=False)

    class Meta:
        model = Lot
        fields = ["medicine", "lot_number", "expiry_date", "received_date", "purchase_price", "supplier"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "received_date" in self.fields:
            self.fields["received_date"].initial = timezone.localdate

    def _get_validation_exclusions(self):
        # A repeated lot number is a top-up of that lot (lot_receive decides);
        # the unique constraint must not reject it here. clean() checks the
        # one case lot_receive refuses: the same number with another expiry.
        exclusions = super()._get_validation_exclusions()
        exclusions.add("lot_number")
        return exclusions

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        expiry, received = cleaned.get("expiry_date"), cleaned.get("received_date")
        if received and received > today:
            self.add_error("received_date", _("The receipt date cannot be in the future."))
        if expiry and expiry <= today:
            self.add_error("expiry_date", _("Expired goods cannot be received."))
        elif expiry and received and expiry <= received:
            self.add_error("expiry_date", _("A lot must expire after the day it was received."))
        medicine, number = cleaned.get("medicine"), cleaned.get("lot_number")
        if medicine and number and expiry:
            existing = Lot.objects.filter(medicine=medicine, lot_number=number.strip()).first()
            if existing is not None and existing.status in CLOSED_TO_RECEIPTS:
                self.add_error(
                    "lot_number",
                    _("Lot %(number)s of this medicine is %(status)s: no more stock can be received into it.")
                    % {"number": number, "status": existing.get_status_display()},
                )
            elif existing is not None and existing.expiry_date != expiry:
                self.add_error(
                    "lot_number",
                    _("Lot %(number)s of this medicine already exists with expiry %(expiry)s.")
                    % {"number": number, "expiry": existing.expiry_date.strftime("%d.%m.%Y")},
                )
        return cleaned


class ChangeReasonMixin:
    """A ``change_reason`` field, required where the service's ``reason_rule`` says; kept in the history.

    The rule and its wording are the service's own (``catalog.services.ReasonRule``),
    so the form asks exactly when the service would refuse, in the same words.
    """

    reason_rule: ReasonRule

    def clean(self):
        cleaned = super().clean()
        reason = (cleaned.get("change_reason") or "").strip()
        cleaned["change_reason"] = reason
        if self.instance.pk and not reason and self.reason_rule.needed(self.changed_data):
            self.add_error("change_reason", self.reason_rule.message)
        return cleaned


def change_reason_field(help_text) -> forms.CharField:
    return forms.CharField(
        label=_("Reason for the change"),
        max_length=100,
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
        help_text=help_text,
    )


class EditedSinceOpenedMixin:
    """Saves what the member changed on the page, not what differs from the record at the moment of saving.

    Each field of an existing record also sends the value the page showed
    (Django's hidden initial, ``initial-<name>``). ``changed_data`` compares the
    member's value with that one, so a field a colleague or an import changed
    while the page was open is not written back with the old value. Where the
    member changed a field that was also changed meanwhile, saving is refused
    with the value now kept, and the page shows it for a second look. A post
    without the shown values (a script, an old tab) is compared with the record
    as before.
    """

    edited_since_opened_message = _(
        "This was changed by someone else since you opened the page; it now shows the saved value. "
        "Check it and save again."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for field in self.fields.values():
                if not isinstance(field, forms.FileField):
                    field.show_hidden_initial = True

    def _shown(self, bound_field) -> bool:
        return bound_field.field.show_hidden_initial and bound_field.html_initial_name in self.data

    @property
    def changed_data(self) -> list[str]:
        changed = []
        for name, bound_field in self._bound_items():
            if self._shown(bound_field):
                edited = bound_field._has_changed()
            else:
                edited = bound_field.field.has_changed(bound_field.initial, bound_field.data)
            if edited:
                changed.append(name)
        return changed

    def clean(self):
        cleaned = super().clean()
        stale = []
        for name in self.changed_data:
            bound_field = self[name]
            if not self._shown(bound_field):
                continue
            shown = self._widget_data_value(bound_field.field.hidden_widget(), bound_field.html_initial_name)
            if bound_field.field.has_changed(bound_field.initial, shown):
                stale.append(bound_field)
        if stale:
            # The page shows the record as it is now, so that saving again is a decision made on it.
            self.data = self.data.copy()
            for bound_field in stale:
                self.data[bound_field.html_initial_name] = bound_field.field.prepare_value(bound_field.initial)
                self.add_error(bound_field.name, self.edited_since_opened_message)
        return cleaned


class MedicineForm(EditedSinceOpenedMixin, ChangeReasonMixin, forms.ModelForm):
    """The medicine form: a new price or dispensing rule is saved with the reason for it."""

    change_reason = change_reason_field(
        _("Required when the price or the prescription or controlled flag changes; shown in the history.")
    )
    reason_rule = MEDICINE_CHANGE_REASON

    class Meta:
        model = Medicine
        fields = list(MEDICINE_DETAIL_FIELDS)


class LotChangeForm(EditedSinceOpenedMixin, ChangeReasonMixin, forms.ModelForm):
    """A lot's paperwork: correcting its number or expiry date says why (kept in its history)."""

    change_reason = change_reason_field(_("Required when the lot number or expiry date changes; shown in the history."))
    reason_rule = LOT_CORRECTION_REASON

    class Meta:
        model = Lot
        fields = list(LOT_DETAIL_FIELDS)
