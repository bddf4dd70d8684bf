"""What every form for staff and expert input shares: row ids that cannot overflow a
query, and errors worded for the page."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# The largest primary key the database holds (bigint).
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdListField(forms.Field):
    """Several row ids from checkboxes with one name."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Pick from the list.")}

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return [id_field().clean(item) for item in value]


def error_lines(form: forms.Form) -> list[str]:
    """'Label: problem' for each error, as the page shows them."""
    lines = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label or name.replace("_", " ").capitalize() if field else None
        lines += [f"{label}: {error}" if label else str(error) for error in errors]
    return lines


def flash_errors(request: HttpRequest, form: forms.Form) -> None:
    """A refused form posted from a list page: its errors shown on the page it returns to."""
    for line in error_lines(form):
        messages.error(request, line)
