from django import forms

from apps.core import strict_json
from apps.memory.services import MAX_VALUE_BYTES


class ConsentToggleForm(forms.Form):
    product = forms.SlugField()
    scope = forms.SlugField()
    allow = forms.TypedChoiceField(choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1")


class MemoryValueForm(forms.Form):
    # A first, cheap bound in characters; the service counts the JSON's bytes.
    value = forms.CharField(
        max_length=MAX_VALUE_BYTES, widget=forms.Textarea(attrs={"rows": 3}), help_text="JSON"
    )

    def clean_value(self):
        try:
            return strict_json.loads(self.cleaned_data["value"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from exc


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand this deletes everything GeraOS remembers for me, for good."
    )
