"""Forms of the chat's HTTP endpoints (the sockets check their frames in protocol.py)."""

from django import forms

from config.forms import id_field


class PhotoUploadForm(forms.Form):
    """POST /widget/photos/ and /console/photos/ (docs/protocol.md, "Photos")."""

    conversation = id_field()
    # Chosen by the client, as for message.send: a retried upload is stored once.
    client_id = forms.CharField(max_length=64)
    photo = forms.FileField()
