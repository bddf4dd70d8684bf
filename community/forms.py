from django import forms
from django.utils.translation import gettext_lazy as _


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
