from django import forms

from apps.identity.models import User


class ProfileForm(forms.ModelForm):
    """Validates profile input; saving goes through `services.user_update_profile`."""

    class Meta:
        model = User
        fields = ["name", "country", "preferred_currency"]
