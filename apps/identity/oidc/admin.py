"""Operators register Sign in with Gera's clients (README "Sign in with Gera"): unfold's
screens in place of allauth's, every change audited, the secret shown once."""

from allauth.idp.oidc.models import Client, Token
from django import forms
from django.contrib import admin, messages
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminTextareaWidget

from apps.core import audit
from apps.core.admin import Audited
from apps.core.errors import ApplicationError
from apps.identity.oidc.adapter import GRANT_TYPES, RESPONSE_TYPES
from apps.identity.oidc.clients import client_new_secret, client_problems

# allauth registers both on the stock admin. Clients get unfold's screen; tokens are
# seen and ended through the agent grants they act under, never one by one.
admin.site.unregister(Client)
admin.site.unregister(Token)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ClientForm(forms.ModelForm):
    grant_types = forms.MultipleChoiceField(
        choices=[(value, Client.GrantType(value).label) for value in GRANT_TYPES],
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        initial=[Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN],
    )
    post_logout_redirect_uris = forms.CharField(
        required=False,
        widget=UnfoldAdminTextareaWidget,
        help_text="Where a product may send a person after signing out, one per line.",
    )

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "type",
            "skip_consent",
            "scopes",
            "default_scopes",
            "grant_types",
            "redirect_uris",
            "post_logout_redirect_uris",
            "cors_origins",
        ]
        help_texts = {
            "scopes": "One per line: openid, email, profile, plan for a product; an agent's "
            "dispatch:create, dispatch:read, receipts:read, disputes:create, "
            "memory:read:<scope>, memory:write:<scope>, capability:<skill capability>.",
            "skip_consent": "First-party products only; an agent always sees the consent page.",
            "redirect_uris": "One per line, matched exactly (a 127.0.0.1 URI on any port).",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["grant_types"] = self.instance.get_grant_types()
            self.initial["post_logout_redirect_uris"] = "\n".join(
                self.instance.get_post_logout_redirect_uris()
            )

    def clean(self) -> dict:
        data = super().clean()
        problems = client_problems(
            scopes=_lines(data.get("scopes", "")),
            grant_types=data.get("grant_types", []),
            redirect_uris=_lines(data.get("redirect_uris", "")),
            post_logout_uris=_lines(data.get("post_logout_redirect_uris", "")),
            public=data.get("type") == Client.Type.PUBLIC,
            skip_consent=data.get("skip_consent", False),
        )
        for field, errors in problems.items():
            for error in errors:
                self.add_error(field, error)
        return data

    def save(self, commit: bool = True) -> Client:
        client = super().save(commit=False)
        client.set_grant_types(self.cleaned_data["grant_types"])
        client.set_response_types(list(RESPONSE_TYPES))
        client.set_post_logout_redirect_uris(_lines(self.cleaned_data["post_logout_redirect_uris"]))
        client.allow_uri_wildcards = False
        if commit:
            client.save()
        return client


@admin.register(Client)
class ClientAdmin(Audited, ModelAdmin):
    form = ClientForm
    list_display = ["name", "id", "type", "skip_consent", "created_at"]
    list_filter = ["type", "skip_consent"]
    search_fields = ["id", "name"]
    readonly_fields = ["created_at"]
    actions = ["new_secret"]

    def get_readonly_fields(self, request, obj=None):
        # The client id is what products and agents are configured with: fixed once made.
        return [*self.readonly_fields, "id"] if obj else self.readonly_fields

    def save_model(self, request, obj: Client, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change and obj.type == Client.Type.CONFIDENTIAL:
            request.audit_changes["secret"] = audit.SECRET_CHANGE  # the add's event says so
            self._show_secret(request, obj, client_new_secret(client=obj))

    @action(description="Make a new client secret (shown once)", permissions=["change"])
    def new_secret(self, request, queryset) -> None:
        for client in queryset:
            try:
                secret = client_new_secret(client=client, request=request)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self._show_secret(request, client, secret)

    def _show_secret(self, request, client: Client, secret: str) -> None:
        self.message_user(
            request,
            f"{client.name}: client secret {secret} — give it to the product now; GeraOS "
            "keeps only its hash and cannot show it again.",
            messages.WARNING,
        )
