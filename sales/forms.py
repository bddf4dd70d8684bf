from django import forms

from sales.services import VISITOR_REF


class OrderForm(forms.Form):
    order_id = forms.CharField(max_length=100)
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = forms.RegexField(regex=r"^[A-Za-z]{3}$")
    ordered_at = forms.DateTimeField()
    # The bx_chat value the product card's link carried to the shop.
    chat_id = forms.IntegerField(min_value=1, required=False)
    # The widget reference BrandChat.attribution() gave the shop's checkout.
    visitor_ref = forms.RegexField(regex=rf"^{VISITOR_REF}$", required=False)
