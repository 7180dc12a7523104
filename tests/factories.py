import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from apps.identity.models import User

PASSWORD = "correct-horse-battery-staple"
# Hashing with Argon2 is deliberately slow; hash the shared test password once.
_PASSWORD_HASH = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    country = "GB"
    preferred_currency = "GBP"
    password = _PASSWORD_HASH

    @factory.post_generation
    def verified_email(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
