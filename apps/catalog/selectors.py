from django.db.models import QuerySet

from apps.catalog.models import Product


def product_list_active() -> QuerySet[Product]:
    return Product.objects.filter(active=True)


def product_get_active(*, code: str) -> Product | None:
    return Product.objects.filter(code=code, active=True).first()
