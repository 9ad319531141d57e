from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, PermissionsMixin
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from simple_history.models import HistoricalRecords

from .phone import format_phone, normalize_phone
from .roles import Role, group_name, is_staff_role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Staff type their phone any way they like at the login form.
        try:
            username = normalize_phone(username)
        except Exception:
            pass
        return self.get(**{self.model.USERNAME_FIELD: username})

    def create_user(self, phone: str, password: str | None = None, **extra):
        user = self.model(phone=normalize_phone(phone), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra):
        extra["role"] = Role.ADMIN
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with a phone number: staff, customer or courier.

    ``is_staff`` and ``is_superuser`` follow the role and are never edited by
    hand: saving a user with a staff role puts them in that role's group.
    """

    phone = models.CharField(
        _("phone"),
        max_length=16,
        unique=True,
        help_text=_("Uzbek mobile or landline number; stored as +998XXXXXXXXX."),
        error_messages={"unique": _("A user with this phone number already exists.")},
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, help_text=_("Where alert e-mails go."))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER, db_index=True)
    # Where a staff member works: they see and move stock of these places only
    # (the administrator sees every place). See catalog.stock.places.
    locations = models.ManyToManyField(
        "catalog.Location", verbose_name=_("locations"), blank=True, related_name="staff"
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False, editable=False)
    # Set when the owner proved the phone with an SMS code. An inactive account
    # without it is an unfinished sign-up (which may be started again); an
    # inactive account with it was deactivated by staff and stays so.
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True, editable=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["phone"]

    def __str__(self) -> str:
        name = self.get_full_name()
        return f"{name} ({format_phone(self.phone)})" if name else format_phone(self.phone)

    def clean(self) -> None:
        super().clean()
        if self.phone:
            self.phone = normalize_phone(self.phone)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.phone

    @property
    def is_staff_role(self) -> bool:
        return is_staff_role(self.role)

    def save(self, *args, **kwargs) -> None:
        self.is_staff = is_staff_role(self.role)
        self.is_superuser = self.role == Role.ADMIN
        with transaction.atomic():
            super().save(*args, **kwargs)
            self._sync_role_group()

    def _sync_role_group(self) -> None:
        role_groups = Group.objects.filter(name__startswith="role:")
        wanted = group_name(self.role) if self.is_staff else None
        current = set(self.groups.filter(pk__in=role_groups).values_list("name", flat=True))
        if current == ({wanted} if wanted else set()):
            return
        self.groups.remove(*role_groups.exclude(name=wanted))
        if wanted:
            group, _created = Group.objects.get_or_create(name=wanted)
            self.groups.add(group)


class BackupCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes for staff who lose their phone.

    django-otp's own static tokens are stored in plain text; these are stored
    only as password hashes, so a database dump does not reveal them.
    """

    class Meta:
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: str) -> bool:
        verify_allowed, _unused = self.verify_is_allowed()
        if not verify_allowed:
            return False
        normalized = normalize_backup_code(token)
        for code in self.codes.filter(used_at__isnull=True):
            if check_password(normalized, code.code_hash):
                # Claim the code with a conditional update so two logins racing
                # with the same code cannot both succeed.
                claimed = BackupCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now())
                if claimed:
                    self.throttle_reset()
                    return True
        self.throttle_increment()
        return False

    @property
    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


def normalize_backup_code(token: str) -> str:
    return "".join(ch for ch in str(token).lower() if ch.isalnum())


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        # Never the code itself: only its hash is kept.
        return f"{self.device} #{self.pk}"

    @classmethod
    def hashed(cls, device: BackupCodeDevice, code: str) -> "BackupCode":
        return cls(device=device, code_hash=make_password(normalize_backup_code(code)))


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("Sign-up")
    PASSWORD_RESET = "password_reset", _("Password reset")
    PHONE_CHANGE = "phone_change", _("Phone change")


class PhoneCode(models.Model):
    """A one-time code sent by SMS, stored only as a keyed hash.

    A code is bound to a phone and a purpose (and, for a phone change, to the
    user asking for it), so a sign-up code cannot reset a password. See
    ``accounts.services.otp`` for the rules: lifetime, wrong tries, cooldown, caps per client.
    """

    phone = models.CharField(_("phone"), max_length=16)
    purpose = models.CharField(_("purpose"), max_length=16, choices=CodePurpose.choices)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code_hash = models.CharField(_("code hash"), max_length=64)
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # A sign-up code carries the sign-up it was sent for: the password hash and the
    # profile, applied only when a code and that password confirm it (see
    # ``customer_verify``). Never the password itself.
    signup = models.JSONField(_("sign-up"), null=True, blank=True, editable=False)
    # False for a code issued only so that the answer looks alike (a forgotten
    # password of an unknown number): it went to no one.
    delivered = models.BooleanField(_("sent"), default=True, editable=False)
    # The SMS text until the send task has sent it, encrypted (accounts.services.otp._seal):
    # the broker carries only the code's id. Dropped once sent or expired.
    sms_text = models.BinaryField(_("SMS text, encrypted"), null=True, blank=True, editable=False)
    # The client that asked for the code (backoffice.client_ip.client_network: an
    # IPv4 address or an IPv6 /64), for the hourly and daily caps, which count per
    # client. Null when no request asked (a command, a test); goes with the row
    # after a day (accounts.services.otp.otp_flush).
    requested_from = models.CharField(_("requested from"), max_length=64, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("phone code")
        verbose_name_plural = _("phone codes")
        indexes = [
            # The latest code of a phone for a purpose (verify, cooldown) and the daily count.
            models.Index(fields=["phone", "purpose", "-created_at"], name="phonecode_phone_purpose_idx"),
            # The clean-up sweep.
            models.Index(fields=["created_at"], name="phonecode_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"
