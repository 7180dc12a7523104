from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.decorators import action
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminSelectWidget

from apps.core.admin import Audited, NeverDeleted, ask_reason, asked_reason, badge_column
from apps.identity import services
from apps.identity.forms import preferred_currency_field
from apps.identity.models import (
    AgentGrant,
    Plan,
    PlanEntitlement,
    StripeEvent,
    Subscription,
    User,
)
from apps.identity.oidc import admin as oidc_admin  # noqa: F401 - registers the clients' screen

# allauth registers EmailAddress and Authenticator, and Django registers Group, on the
# stock admin; re-register them on unfold's ModelAdmin so every operator screen looks and
# behaves the same (and so no operator screen shows a TOTP secret).
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)
admin.site.unregister(Group)


def _out_of_reach(request, account: User | None) -> bool:
    """Only a superuser changes a superuser's account or removes its second factor: the
    Administrator role manages staff, it does not become a superuser."""
    return account is not None and account.is_superuser and not request.user.is_superuser


class OperatorUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class OperatorUserChangeForm(UserChangeForm):
    preferred_currency = preferred_currency_field(widget=UnfoldAdminSelectWidget)

    class Meta:
        model = User
        fields = "__all__"


class EmailAddressInline(TabularInline):
    model = EmailAddress
    extra = 0
    fields = ["email", "primary", "verified"]


class SubscriptionInline(StackedInline):
    model = Subscription
    extra = 0
    can_delete = False
    fields = ["plan", "status", "current_period_end", "stripe_customer_id"]
    readonly_fields = fields


class AgentGrantInline(TabularInline):
    model = AgentGrant
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["name", "client_id", "token_prefix", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # grants are issued by the user, whose token only they see


@admin.register(User)
class UserAdmin(Audited, DjangoUserAdmin, ModelAdmin):
    form = OperatorUserChangeForm
    add_form = OperatorUserCreationForm
    change_password_form = AdminPasswordChangeForm
    inlines = [EmailAddressInline, SubscriptionInline, AgentGrantInline]
    ordering = ["-date_joined"]
    list_display = ["email", "name", "country", "preferred_currency", "is_staff", "date_joined"]
    list_filter = ["is_staff", "is_active", "country", "date_joined"]
    search_fields = ["email", "name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "country", "preferred_currency"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups"]

    def get_inlines(self, request, obj):
        # Email addresses are added once the account exists (the change page).
        return self.inlines if obj else []

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else [*readonly, "is_superuser"]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not _out_of_reach(request, obj)


@admin.register(EmailAddress)
class EmailAddressAdmin(Audited, ModelAdmin):
    list_display = ["email", "user", "primary", "verified"]
    list_filter = ["primary", "verified"]
    search_fields = ["email", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None) -> bool:
        account = obj.user if obj else None
        return super().has_change_permission(request, obj) and not _out_of_reach(request, account)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Nor may an address be added to, or moved onto, a superuser's account: a reset
        # link mailed there would take it over.
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.filter(is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Group)
class GroupAdmin(Audited, ModelAdmin):
    search_fields = ["name"]
    filter_horizontal = ["permissions"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Each permission is labelled with its content type: fetch them in the same query.
        if db_field.name == "permissions":
            kwargs["queryset"] = Permission.objects.select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class PlanEntitlementInline(TabularInline):
    model = PlanEntitlement
    extra = 0
    fields = ["feature", "quota"]


@admin.register(Plan)
class PlanAdmin(Audited, ModelAdmin):
    list_display = ["name", "code", "price", "is_default", "stripe_price_id"]
    search_fields = ["code", "name"]
    inlines = [PlanEntitlementInline]


@admin.register(Subscription)
class SubscriptionAdmin(Audited, ModelAdmin):
    list_display = ["user", "plan", "status_badge", "current_period_end", "stripe_customer_id"]
    list_filter = ["status", "plan"]
    search_fields = ["user__email", "stripe_customer_id", "stripe_subscription_id"]
    list_select_related = ["user", "plan"]
    readonly_fields = ["stripe_state_at", "created_at", "updated_at"]
    raw_id_fields = ["user"]
    status_badge = badge_column(Subscription.statuses)


@admin.register(AgentGrant)
class AgentGrantAdmin(Audited, NeverDeleted, ModelAdmin):
    list_display = [
        "name",
        "user",
        "client_id",
        "token_prefix",
        "state_badge",
        "expires_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "client_id", "token_prefix", "user__email"]
    list_select_related = ["user"]
    # What the user granted is theirs to change: operators read it and may only revoke.
    fields = readonly_fields = [
        "id",
        "user",
        "name",
        "client_id",
        "scopes",
        "allowed_capabilities",
        "per_action_limit",
        "daily_limit",
        "expires_at",
        "token_prefix",
        "oauth_client",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
        "created_at",
    ]
    actions = ["revoke"]
    state_badge = badge_column(
        AgentGrant.states, field="state", description="State", sortable=False
    )

    def has_add_permission(self, request) -> bool:
        return False  # only the user issues grants: the token is theirs alone

    @action(description="Revoke selected grants now", permissions=["change"])
    def revoke(self, request, queryset):
        reason = asked_reason(request)
        if not reason:
            return ask_reason(
                self,
                request,
                queryset,
                action="revoke",
                title="Revoke these agent grants?",
                explanation="Their agents are refused from the next request. Each grant's "
                "owner sees your reason on the agent's page.",
            )
        for grant in queryset:
            services.agent_grant_revoke(grant=grant, reason=reason, request=request)
        self.message_user(request, f"Revoked {queryset.count()} grant(s).", messages.SUCCESS)
        return None


@admin.register(StripeEvent)
class StripeEventAdmin(Audited, ModelAdmin):
    list_display = ["event_id", "type", "created", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Authenticator)
class AuthenticatorAdmin(Audited, ModelAdmin):
    """Operators may see that a user has MFA and remove a lost device; never its secret."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        account = obj.user if obj else None
        return super().has_delete_permission(request, obj) and not _out_of_reach(request, account)
