from django.contrib import admin, messages
from django.db import models
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from apps.catalog import services
from apps.catalog.models import Product, Provider, Skill
from apps.core import audit
from apps.core.admin import Audited, badge_column, pretty_json
from apps.core.errors import ApplicationError


@admin.register(Product)
class ProductAdmin(Audited, ModelAdmin):
    list_display = ["name", "code", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


@admin.register(Skill)
class SkillAdmin(Audited, ModelAdmin):
    list_display = ["capability", "title", "product", "status_badge", "price_from", "version"]
    list_filter = ["status", "product"]
    search_fields = ["capability", "title", "synonyms"]
    list_select_related = ["product"]
    readonly_fields = ["status", "schema_preview"]
    actions = ["publish", "suspend"]
    status_badge = badge_column(Skill.statuses)

    @display(description="Input schema, as agents see it")
    def schema_preview(self, skill: Skill) -> str:
        return pretty_json(skill.input_schema)

    def _each(self, request, queryset, change, verb: str) -> None:
        for skill in queryset:
            try:
                change(skill=skill, request=request)
            except ApplicationError as error:
                self.message_user(request, f"{skill}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{skill}: {verb}.", messages.SUCCESS)

    @action(description="Publish selected skills", permissions=["change"])
    def publish(self, request, queryset) -> None:
        self._each(request, queryset, services.skill_publish, "published")

    @action(description="Suspend selected skills", permissions=["change"])
    def suspend(self, request, queryset) -> None:
        self._each(request, queryset, services.skill_suspend, "suspended")


@admin.register(Provider)
class ProviderAdmin(Audited, ModelAdmin):
    list_display = ["name", "city", "country", "rating", "price", "sandbox", "active"]
    list_filter = ["active", "country", "city"]
    search_fields = ["name", "city"]
    filter_horizontal = ["skills"]
    actions = ["rotate_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # endpoints are https

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Each skill is labelled with its product: fetch them in the same query.
        if db_field.name == "skills":
            kwargs["queryset"] = Skill.objects.select_related("product")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @display(description="Sandbox", boolean=True)
    def sandbox(self, provider: Provider) -> bool:
        return provider.is_sandbox

    def save_model(self, request, obj: Provider, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change:
            return
        # A new provider cannot be sent bookings without a secret; the add's event says so.
        secret = services.provider_rotate_secret(provider=obj)
        request.audit_changes["signing_secret"] = audit.SECRET_CHANGE
        if self.has_rotate_secret_permission(request):
            self._show_secret(request, obj, secret)
        else:
            self.message_user(
                request,
                f"{obj}: a signing secret was made; someone who may rotate secrets rotates it "
                "to give it to the provider.",
                messages.WARNING,
            )

    def has_rotate_secret_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("catalog.rotate_provider_secret")

    @action(description="Rotate signing secret (shown once)", permissions=["rotate_secret"])
    def rotate_secret(self, request, queryset) -> None:
        for provider in queryset:
            secret = services.provider_rotate_secret(provider=provider, request=request)
            self._show_secret(request, provider, secret)

    def _show_secret(self, request, provider: Provider, secret: str) -> None:
        self.message_user(
            request,
            f"{provider}: new signing secret {secret} — give it to the provider now; "
            "it is stored sealed and cannot be shown again.",
            messages.WARNING,
        )
