from django.contrib import admin
from unfold.admin import ModelAdmin

from apps.catalog.models import Product


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ["name", "code", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
