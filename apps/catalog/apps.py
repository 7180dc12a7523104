from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from apps.catalog.selectors import capabilities_named
        from apps.identity.capabilities import register_capability_lookup

        # Identity's consent page names capabilities through this; it cannot import catalog.
        register_capability_lookup(capabilities_named)
