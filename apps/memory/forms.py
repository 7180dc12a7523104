import json

from django import forms


class ConsentToggleForm(forms.Form):
    product = forms.SlugField()
    scope = forms.SlugField()
    allow = forms.TypedChoiceField(choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1")


class MemoryValueForm(forms.Form):
    value = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="JSON")

    def clean_value(self):
        try:
            return json.loads(self.cleaned_data["value"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg}.") from exc


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand this deletes everything GeraOS remembers for me, for good."
    )
