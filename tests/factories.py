"""factory_boy factories shared by the test suite."""

from __future__ import annotations

import factory
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from directory.models import Correspondent
from dpi.codes import NationalIdType, Profession
from dpi.models import CareUnit, LegalEntity, Membership, NoticeAcknowledgement, Role, Site, User
from dpi.validators import luhn_check_digit
from patients.models import Episode, Patient, Sex
from sandbox.demo import demo_totp_secret

PASSWORD = "Un-mot-de-passe-solide-42"


def rpps_number(n: int) -> str:
    base = f"1{n:09d}"
    return base + luhn_check_digit(base)


class LegalEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalEntity
        django_get_or_create = ["finess_ej"]

    finess_ej = "010000016"
    name = "CH de test"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    legal_entity = factory.SubFactory(LegalEntityFactory)
    finess_eg = factory.Sequence(lambda n: f"02{n:07d}")
    name = factory.Sequence(lambda n: f"Site {n}")


class CareUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareUnit

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"UF{n:04d}")
    name = factory.Sequence(lambda n: f"Unité {n}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ["code"]

    code = "medecin"
    label = "Médecin"
    scope = Role.Scope.CARE_UNIT
    may_break_glass = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Soignant{n}")
    national_id_type = NationalIdType.RPPS
    rpps = factory.Sequence(rpps_number)
    profession = Profession.MEDECIN

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def totp(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Users have their second factor unless created with ``totp=False``."""
        if create and extracted is not False:
            TOTP.activate(self, demo_totp_secret(self.username))

    @factory.post_generation
    def notice_acknowledged(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Users have acknowledged the current mandatory notice, as anyone past their first login, unless
        created with ``notice_acknowledged=False`` (then the DPI sends them to the notice page first).

        The row is inserted directly, like the TOTP above: fixture state, with no audit row of its own.
        """
        if create and extracted is not False:
            NoticeAcknowledgement.objects.create(user=self, notice=NoticeAcknowledgement.CURRENT)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    care_unit = factory.SubFactory(CareUnitFactory)
    role = factory.SubFactory(RoleFactory)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    ipp = factory.Sequence(lambda n: f"{n:06d}")
    ipp_authority = "TEST"
    birth_name = factory.Sequence(lambda n: f"PATIENT{n}")
    first_names = "JEAN PAUL"
    birth_date = factory.Faker("date_of_birth")
    sex = Sex.MALE


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    patient = factory.SubFactory(PatientFactory)
    visit_number = factory.Sequence(lambda n: f"V{n:08d}")
    visit_authority = "TEST"
    kind = Episode.Kind.INPATIENT
    care_unit = factory.SubFactory(CareUnitFactory)
    admitted_at = factory.LazyFunction(timezone.now)


class CorrespondentFactory(factory.django.DjangoModelFactory):
    """A general practitioner in town with an RPPS and a personal MSSanté address."""

    class Meta:
        model = Correspondent

    rpps = factory.Sequence(lambda n: rpps_number(500_000 + n))
    civility = "MME"
    title = "DR"
    family_name = factory.Sequence(lambda n: f"MOREAU{n}")
    given_name = "Claire"
    profession = "Médecin"
    specialty = "Médecine générale"
    organization = "Cabinet médical des Tilleuls"
    organization_id = "1750000018"
    postal_code = "75011"
    city = "Paris"
    mss_address = factory.LazyAttribute(lambda c: f"{c.family_name.lower()}@medecin.mssante.fr")


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
