from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.identity.models import User

# allauth registers EmailAddress and Django registers Group on the stock admin; re-register
# both on unfold's ModelAdmin so every operator screen looks and behaves the same.
admin.site.unregister(EmailAddress)
admin.site.unregister(Group)


class OperatorUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class OperatorUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class EmailAddressInline(TabularInline):
    model = EmailAddress
    extra = 0
    fields = ["email", "primary", "verified"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = OperatorUserChangeForm
    add_form = OperatorUserCreationForm
    change_password_form = AdminPasswordChangeForm
    inlines = [EmailAddressInline]
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


@admin.register(EmailAddress)
class EmailAddressAdmin(ModelAdmin):
    list_display = ["email", "user", "primary", "verified"]
    list_filter = ["primary", "verified"]
    search_fields = ["email", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(Group)
class GroupAdmin(ModelAdmin):
    search_fields = ["name"]
    filter_horizontal = ["permissions"]
