"""Forms of the catalogue admin: reason prompts, the receipt of a lot, corrections that say why.

Quantities are asked as people count them, whole packs and the loose parts of
an opened pack (``UnitsMixin``); the services take the smallest unit.
"""

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from catalog.admin.money import MONEY_FIELDS
from catalog.exceptions import CatalogError, InvalidQuantity
from catalog.formatting import medicine_units
from catalog.models import Location, Lot, LotStock, Medicine
from catalog.services import MEDICINE_CHANGE_REASON, MEDICINE_DETAIL_FIELDS, check_parts_per_pack_change
from catalog.stock import CLOSED_TO_RECEIPTS, LOT_CORRECTION_REASON, LOT_DETAIL_FIELDS, ReasonRule


class UnitsMixin:
    """Asks a quantity as whole packs (``packs``) and loose parts (``parts``); ``cleaned_data["units"]`` is the sum.

    ``add_units_fields`` adds the fields: the parts field only where the
    medicine is sold by the part, or is not known yet (a receipt picks it in
    the same form). ``units_medicine`` returns the medicine the parts count in.
    """

    units_allow_zero = False

    def add_units_fields(
        self, medicine: Medicine | None, *, packs_label, parts_label=None, initial: int | None = None
    ) -> None:
        packs_initial, parts_initial = None, None
        if initial is not None and medicine is not None:
            packs_initial, parts_initial = divmod(initial, medicine.parts_per_pack)
        self.fields["packs"] = forms.IntegerField(
            label=packs_label, min_value=0, initial=packs_initial, widget=UnfoldAdminIntegerFieldWidget
        )
        if medicine is None or medicine.is_divisible:
            part = (medicine.part_name if medicine else "") or _("parts")
            help_text = (
                _("Parts of an opened pack (%(part)s), fewer than %(count)d.")
                % {"part": part, "count": medicine.parts_per_pack}
                if medicine
                else _("Only for a medicine sold by the part: parts of an opened pack.")
            )
            self.fields["parts"] = forms.IntegerField(
                label=parts_label or _("Loose parts"),
                min_value=0,
                required=False,
                initial=parts_initial or None,
                help_text=help_text,
                widget=UnfoldAdminIntegerFieldWidget,
            )

    def units_medicine(self) -> Medicine | None:
        raise NotImplementedError

    def clean_units(self, cleaned: dict) -> None:
        medicine, packs = self.units_medicine(), cleaned.get("packs")
        parts = cleaned.get("parts") or 0
        if medicine is None or packs is None:
            return
        if parts and not medicine.is_divisible:
            self.add_error(
                "parts",
                _("%(medicine)s is sold by the whole pack: leave the parts empty.") % {"medicine": medicine.name},
            )
            return
        if parts >= medicine.parts_per_pack > 1:
            self.add_error(
                "parts",
                _("A pack of %(medicine)s holds %(count)d parts: count whole packs as packs.")
                % {"medicine": medicine.name, "count": medicine.parts_per_pack},
            )
            return
        units = packs * medicine.parts_per_pack + parts
        if units == 0 and not self.units_allow_zero:
            self.add_error("packs", InvalidQuantity().message)
            return
        cleaned["units"] = units


class PlaceChoiceField(forms.ModelChoiceField):
    """A place to pick, each shown with what the lot holds there when known."""

    def __init__(self, queryset: QuerySet, *, held: dict[int, str] | None = None, **kwargs) -> None:
        self.held = held or {}
        kwargs.setdefault("widget", UnfoldAdminSelectWidget)
        kwargs.setdefault("empty_label", _("Select value"))
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj: Location) -> str:
        held = self.held.get(obj.pk)
        return f"{obj.name} · {held}" if held else obj.name


def lot_stock_at(lot: Lot, places: QuerySet[Location]) -> list[LotStock]:
    """The lot's stock rows with units at ``places``, with their place, by place name."""
    return list(
        LotStock.objects.filter(lot=lot, location__in=places, quantity__gt=0)
        .select_related("location")
        .order_by("location__name", "location_id")
    )


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


class LotAtPlaceForm(UnitsMixin, LotActionReasonForm):
    """An operation on one lot at one place: the place (where the lot has units, among the member's), a quantity, why.

    ``stocks`` are the lot's rows with units at the member's places
    (``lot_stock_at``); with one, it is chosen already.
    """

    packs_label = _("Packs")

    def __init__(self, *args, lot: Lot, stocks: list[LotStock], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lot = lot
        self.held = {stock.location_id: stock.quantity for stock in stocks}
        self.fields["location"] = PlaceChoiceField(
            Location.objects.filter(pk__in=list(self.held)).order_by("name", "id"),
            label=_("Location"),
            held={pk: medicine_units(units, lot.medicine) for pk, units in self.held.items()},
            initial=stocks[0].location_id if len(stocks) == 1 else None,
        )
        self.add_units_fields(lot.medicine, packs_label=self.packs_label, initial=self.initial_units(stocks))
        self.order_fields(["location", "packs", "parts", "reason"])

    def initial_units(self, stocks: list[LotStock]) -> int | None:
        return None

    def units_medicine(self) -> Medicine:
        return self.lot.medicine

    def clean(self):
        cleaned = super().clean()
        self.clean_units(cleaned)
        return cleaned


class LotWriteOffForm(LotAtPlaceForm):
    """Write-off of one lot at a place: how many units, and why."""

    packs_label = _("Packs to write off")

    def initial_units(self, stocks):
        return stocks[0].quantity if len(stocks) == 1 else None

    def clean(self):
        cleaned = super().clean()
        location, units = cleaned.get("location"), cleaned.get("units")
        if location is not None and units is not None and units > self.held[location.pk]:
            self.add_error(
                "packs",
                _("%(location)s holds %(quantity)s of this lot.")
                % {"location": location.name, "quantity": medicine_units(self.held[location.pk], self.lot.medicine)},
            )
        return cleaned


class LotCountForm(LotAtPlaceForm):
    """A count of one lot at a place: what is on the shelf becomes the stock there (one adjustment)."""

    packs_label = _("Packs counted")
    units_allow_zero = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        reason.required = False
        reason.help_text = _("Recorded with the adjustment; empty: a stocktake.")


class LotBulkWriteOffForm(LotActionReasonForm):
    """Write-off of every unit the selected lots hold at one of the member's places."""

    def __init__(self, *args, places: QuerySet[Location], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        places = list(places)
        self.fields["location"] = PlaceChoiceField(
            Location.objects.filter(pk__in=[place.pk for place in places]).order_by("name", "id"),
            label=_("Location"),
            initial=places[0].pk if len(places) == 1 else None,
        )
        self.order_fields(["location", "reason"])


class LotReceiveForm(UnitsMixin, forms.ModelForm):
    """A new lot arrives at a place: its quantity becomes a receipt movement written by ``lot_receive``.

    The same medicine and lot number with the same expiry adds stock to that
    lot (a second delivery of one batch), as ``lot_receive`` does. The place is
    one of the member's (``places``, set per request by the admin).
    """

    reason = forms.CharField(label=_("Note"), max_length=500, required=False, widget=UnfoldAdminTextInputWidget)
    places: QuerySet[Location] | None = None

    class Meta:
        model = Lot
        fields = ["medicine", "lot_number", "expiry_date", "received_date", "purchase_price", "supplier"]
        field_classes = MONEY_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "received_date" in self.fields:
            self.fields["received_date"].initial = timezone.localdate
        places = list(self.places if self.places is not None else Location.objects.none())
        self.fields["location"] = PlaceChoiceField(
            Location.objects.filter(pk__in=[place.pk for place in places]).order_by("name", "id"),
            label=_("Received at"),
            initial=places[0].pk if len(places) == 1 else None,
        )
        self.add_units_fields(None, packs_label=_("Packs received"))

    def units_medicine(self) -> Medicine | None:
        return self.cleaned_data.get("medicine")

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
        self.clean_units(cleaned)
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


def fieldsets_without_reason(fieldsets) -> list:
    """``fieldsets`` less the reason for a change: a member who may only view has nothing to give a reason for,
    and a form-only field shown read-only has no model field to name it (the admin would print "Change reason")."""
    return [(name, options) for name, options in fieldsets if tuple(options["fields"]) != ("change_reason",)]


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
        field_classes = MONEY_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "parts_per_pack" in self.changed_data:
            # The service's own rule and words; it asks again under the medicine's lock.
            try:
                check_parts_per_pack_change(medicine=self.instance)
            except CatalogError as exc:
                self.add_error("parts_per_pack", exc.message)
        part_price, parts = cleaned.get("part_price"), cleaned.get("parts_per_pack")
        if part_price is not None and parts == 1:
            self.add_error("part_price", _("A price of a part is for a medicine sold by the part."))
        return cleaned


class LotChangeForm(EditedSinceOpenedMixin, ChangeReasonMixin, forms.ModelForm):
    """A lot's paperwork: correcting its number or expiry date says why (kept in its history)."""

    change_reason = change_reason_field(_("Required when the lot number or expiry date changes; shown in the history."))
    reason_rule = LOT_CORRECTION_REASON

    class Meta:
        model = Lot
        fields = list(LOT_DETAIL_FIELDS)
        field_classes = MONEY_FIELDS
