"""Forms for redeeming and for the staff redemption queue: bad input is a field error."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import IdListField, id_field
from rewards.models import Redemption


class RedeemForm(forms.Form):
    # The service says what is missing (an address); the form bounds what comes in.
    shipping_address = forms.CharField(
        label=_("Shipping address"), max_length=500, required=False, strip=True
    )
    request_key = forms.CharField(max_length=64, required=False)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *Redemption.Status.choices], required=False
    )
    product = id_field(label=_("Product"), required=False)


class RedemptionActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("ship", _("Mark shipped")),
            ("deliver", _("Mark delivered")),
        ],
    )
    redemption = IdListField(label=_("Redemptions"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
