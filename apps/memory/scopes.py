"""The memory scopes every GeraOS starts with; operators add and describe more in the
admin. Only what is missing is created (the data migration and test databases use it)."""

DEFAULT_SCOPES = [
    ("preferences", "Preferences", "How you like things done: times, languages, brands.", "normal"),
    ("home", "Home", "Your home: address area, appliances, access notes.", "normal"),
    ("health", "Health", "Health context for consultations.", "sensitive"),
    ("payments", "Payments", "How you pay and past spending.", "sensitive"),
    ("conversations", "Conversations", "Summaries of past conversations with agents.", "normal"),
]


def ensure_default_scopes(scope_model) -> None:
    """Takes the model as an argument so a migration can pass its historical one."""
    for code, name, description, sensitivity in DEFAULT_SCOPES:
        scope_model.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "sensitivity": sensitivity},
        )
