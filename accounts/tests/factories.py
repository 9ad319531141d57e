import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role

DEFAULT_PASSWORD = "Dori-test-Pass-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+99890{n:07d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.CUSTOMER
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    """A staff member working at the main location (``locations=[...]`` for others, ``[]`` for none)."""

    role = Role.PHARMACIST

    @factory.post_generation
    def locations(obj, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            from catalog.tests.factories import main_location

            extracted = [main_location()]
        obj.locations.set(extracted)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(StaffFactory)
    name = "Authenticator"
    confirmed = True


class CustomerFactory(UserFactory):
    """A customer who finished sign-up: active, phone confirmed."""

    role = Role.CUSTOMER
    phone_verified_at = factory.LazyFunction(timezone.now)


class CourierFactory(CustomerFactory):
    role = Role.COURIER
