"""Forms for every staff and expert input: a bad value is a field error on the page
(status 400), never a 500 from an unchecked int()."""

from django import forms
from django.utils.translation import gettext_lazy as _


class OfflineMessageActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("claim", _("I'll answer it")), ("answered", _("Answered"))]
    )
