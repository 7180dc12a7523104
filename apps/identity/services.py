"""Identity writes: the only code that creates or changes accounts outside allauth's flows."""

from allauth.account.models import EmailAddress
from django.db import transaction

from apps.identity.models import User


@transaction.atomic
def user_create_verified(
    *, email: str, password: str, name: str = "", is_operator: bool = False, **profile
) -> User:
    """Create an account whose email is already verified (operators, demo and imports)."""
    create = User.objects.create_superuser if is_operator else User.objects.create_user
    user = create(email, password, name=name, **profile)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@transaction.atomic
def user_update_profile(*, user: User, name: str, country: str, preferred_currency: str) -> User:
    user.name = name
    user.country = country
    user.preferred_currency = preferred_currency
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "country", "preferred_currency"])
    return user
