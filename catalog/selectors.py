"""Reads of the catalog: the experts' type-ahead and the card a product makes."""

from typing import Any

from django.db.models import Q

from catalog.models import CatalogProduct


def catalog_search(*, query: str, limit: int = 8) -> list[CatalogProduct]:
    """Products whose SKU starts with, or whose name contains, what the expert typed;
    in-stock ones first."""
    query = query.strip()
    if not query:
        return []
    matches = CatalogProduct.objects.filter(Q(sku__istartswith=query) | Q(name__icontains=query))
    return list(matches.order_by("-in_stock", "name")[:limit])


def product_card(product: CatalogProduct) -> dict[str, Any]:
    """What a product card in a chat shows; stored with the message, so a later price
    change does not rewrite what the customer was told."""
    return {
        "sku": product.sku,
        "name": product.name,
        "price": f"{product.price:.2f}",
        "currency": product.currency,
        "url": product.url,
        "image": product.image_url,
        "in_stock": product.in_stock,
    }
