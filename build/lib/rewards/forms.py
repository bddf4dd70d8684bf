"""Forms for the staff redemption queue: bad filters and ids are field errors."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import IdListField, id_field
from rewards.models import Redemption


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
