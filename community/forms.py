"""Forms for every staff and expert input: a bad value is a field error on the page,
never a 500 from an unchecked int()."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from community.models import Expert
from config.forms import id_field

# One adjustment moves at most this many points; larger corrections are deliberate steps.
MAX_ADJUSTMENT = 100_000


class CatalogSearchForm(forms.Form):
    q = forms.CharField(max_length=100, strip=True)


class SavedReplyForm(forms.Form):
    shortcut = forms.SlugField(
        label=_("Shortcut"),
        max_length=30,
        help_text=_("Letters, digits and dashes: you type / and this in the console."),
    )
    body = forms.CharField(
        label=_("Reply"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}), strip=True
    )


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = Expert
        fields = ["waiting_alerts", "language"]


class FollowUpForm(forms.Form):
    body = forms.CharField(
        label=_("Follow-up"), max_length=settings.CHAT_MAX_MESSAGE_LENGTH, strip=True
    )
    request_key = forms.UUIDField(required=False, widget=forms.HiddenInput)


class OfflineMessageActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("claim", _("I'll answer it")), ("answered", _("Answered"))]
    )


class ExpertActionForm(forms.Form):
    NEEDS = {"limit": "limit", "adjust": "amount", "reverse": "entry"}

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("suspend", _("Suspend")),
            ("reinstate", _("Reinstate")),
            ("limit", _("Chat limit")),
            ("adjust", _("Adjust points")),
            ("reverse", _("Reverse an entry")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    limit = forms.IntegerField(
        label=_("Chat limit"),
        min_value=1,
        max_value=settings.CHAT_BRAND_MAX_CONCURRENT,
        required=False,
    )
    amount = forms.IntegerField(
        label=_("Points"), min_value=-MAX_ADJUSTMENT, max_value=MAX_ADJUSTMENT, required=False
    )
    entry = id_field(label=_("Ledger entry"), required=False)
    request_key = forms.CharField(max_length=64, required=False)
    # A suspension is asked about once more (with what it does) before it happens.
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        action = data.get("action", "")
        needed = self.NEEDS.get(action)
        if needed and data.get(needed) is None and needed not in self.errors:
            self.add_error(needed, forms.Field.default_error_messages["required"])
        if action == "suspend" and not data.get("reason", "").strip():
            self.add_error("reason", _("Give a reason for the suspension."))
        return data


class ReportActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("hide", _("Hide")), ("dismiss", _("Dismiss"))]
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class ApplicationActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("accept", _("Accept")), ("decline", _("Decline"))]
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class ShiftActionForm(forms.Form):
    """Staff publish shifts (times in the brand's time zone); experts sign up or withdraw."""

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("publish", _("Publish")),
            ("sign_up", _("Sign up")),
            ("withdraw", _("Withdraw")),
        ],
    )
    starts_at = forms.DateTimeField(label=_("Starts"), required=False)
    ends_at = forms.DateTimeField(label=_("Ends"), required=False)
    capacity = forms.IntegerField(
        label=_("Experts needed"), min_value=1, max_value=50, required=False
    )
    slot = id_field(label=_("Shift"), required=False)

    def clean(self):
        data = super().clean()
        needed = {"publish": ("starts_at", "ends_at", "capacity")}.get(
            data.get("action"), ("slot",)
        )
        for name in needed:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, forms.Field.default_error_messages["required"])
        return data


class MetricsPeriodForm(forms.Form):
    days = forms.IntegerField(label=_("Period"), min_value=1, max_value=366, required=False)
    format = forms.ChoiceField(
        choices=[("", "HTML"), ("csv", "CSV"), ("experts-csv", "CSV")], required=False
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), max_length=40, required=False)
    page = forms.IntegerField(label=_("Page"), min_value=1, max_value=10**6, required=False)


class ApplicationForm(forms.Form):
    """The public application to become a brand expert."""

    name = forms.CharField(label=_("Your name"), max_length=80)
    email = forms.EmailField(label=_("Email address"))
    motivation = forms.CharField(
        label=_("Why would you be a great expert?"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    product_areas = forms.CharField(
        label=_("Products you know best"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": _("For example: running earbuds, studio monitors")}
        ),
    )
    availability = forms.CharField(
        label=_("When could you take shifts?"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": _("For example: weekday evenings, Saturday mornings")}
        ),
    )
    # From the chat that invited the customer (see community.selectors.application_invite).
    invite = forms.CharField(widget=forms.HiddenInput, max_length=200, required=False)
