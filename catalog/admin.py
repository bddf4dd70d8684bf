from django.contrib import admin

from catalog.models import CatalogProduct


@admin.register(CatalogProduct)
class CatalogProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "price", "currency", "in_stock", "updated_at"]
    list_filter = ["in_stock"]
    search_fields = ["name", "sku"]
