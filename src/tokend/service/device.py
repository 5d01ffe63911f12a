"""Device authorization (RFC 8628): the device asks for codes, a person approves at
/device, the device polls until it receives its token."""

from dataclasses import dataclass

from tokend.domain import ids
from tokend.domain.audit import NOBODY, EventType, Requester
from tokend.domain.device import (
    CLIENT_ID_MAX_LENGTH,
    INTERVAL_S,
    LIFETIME_MS,
    MAX_PENDING_PER_ADDRESS,
    SCOPE_MAX_LENGTH,
    SLOW_DOWN_STEP_S,
    DeviceAuthorization,
    DeviceStatus,
    new_user_code,
    normalize_user_code,
)
from tokend.domain.digest import Digester
from tokend.domain.errors import (
    DeviceFlowError,
    NotFound,
    TooManyDeviceCodes,
    ValidationFailed,
)
from tokend.domain.principal import Person
from tokend.domain.scopes import Scope
from tokend.domain.text import has_control_characters
from tokend.domain.tokens import Origin, validate_name
from tokend.service.audit import record, record_account
from tokend.service.clock import Clock, seconds_until, system_clock
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory
from tokend.service.rate_limit import RateLimiter
from tokend.service.tokens import IssuedToken, TokenService

DEFAULT_NAME = "Device login"
# Kept a while after expiry, so that a late poll hears expired_token, not invalid_grant.
KEEP_EXPIRED_MS = 60 * 60_000


@dataclass(frozen=True, slots=True)
class DeviceGrant:
    """What the device is told: its secret device code and the code the person types."""

    device_code: str
    user_code: str  # without the hyphen
    expires_in_s: int
    interval_s: int

    def __repr__(self) -> str:
        return f"DeviceGrant(user_code={self.user_code!r}, device_code='***')"


@dataclass(frozen=True, slots=True)
class DeviceService:
    uow: UnitOfWorkFactory
    digester: Digester
    tokens: TokenService
    address_limiter: RateLimiter
    clock: Clock = system_clock
    max_pending_per_address: int = MAX_PENDING_PER_ADDRESS  # 0: no cap

    def start(
        self,
        client_id: str,
        *,
        scope: str | None = None,
        name: str | None = None,
        requester: Requester = NOBODY,
    ) -> DeviceGrant:
        """New codes; raises `TooManyDeviceCodes` when the device's address holds
        `max_pending_per_address` live ones already."""
        client_id = _text("client_id", client_id, CLIENT_ID_MAX_LENGTH, required=True)
        scope = _text("scope", scope, SCOPE_MAX_LENGTH) or None
        name = validate_name(name) if name else DEFAULT_NAME
        now = self.clock()
        device_code = ids.random_base62(40)
        with self.uow(write=True) as uow:
            uow.devices.prune(now - KEEP_EXPIRED_MS)
            cap = self.max_pending_per_address
            waiting = uow.devices.pending_from(requester.ip, now) if cap else []
            if cap and len(waiting) >= cap:
                raise TooManyDeviceCodes(retry_after_s=seconds_until(min(waiting), now))
            for _ in range(5):
                # A live code drawn twice (1 in 25 billion per pair) draws again.
                user_code = new_user_code()
                if uow.devices.by_user_code(self.digester.digest(user_code)) is None:
                    break
            uow.devices.add(
                DeviceAuthorization(
                    id=ids.new_device_id(),
                    device_code_digest=self.digester.digest(device_code),
                    user_code_digest=self.digester.digest(user_code),
                    client_id=client_id,
                    scope=scope,
                    name=name,
                    created_at=now,
                    expires_at=now + LIFETIME_MS,
                    interval_s=INTERVAL_S,
                    polled_at=None,
                    status=DeviceStatus.PENDING,
                    ip=requester.ip,
                )
            )
            uow.commit()
        return DeviceGrant(device_code, user_code, LIFETIME_MS // 1000, INTERVAL_S)

    def poll(
        self, device_code: str, client_id: str | None = None, requester: Requester = NOBODY
    ) -> IssuedToken:
        """The token once approved; until then raises `DeviceFlowError` with the RFC
        8628 §3.5 code. ``requester`` is the device, for the token's audit event."""
        if not device_code or len(device_code) > 100:
            raise _invalid_grant()
        now = self.clock()
        with self.uow(write=True) as uow:
            device = uow.devices.by_device_code(self.digester.digest(device_code))
            if device is None or (client_id is not None and client_id != device.client_id):
                raise _invalid_grant()
            if device.is_expired(now):
                raise DeviceFlowError("expired_token", "The device code has expired; start again.")
            if device.status is DeviceStatus.DENIED:
                raise DeviceFlowError("access_denied", "The request was denied.")
            if device.status is DeviceStatus.DONE:
                raise _invalid_grant()
            if device.status is DeviceStatus.PENDING:
                too_soon = (
                    device.polled_at is not None
                    and now - device.polled_at < device.interval_s * 1000
                )
                interval = device.interval_s + (SLOW_DOWN_STEP_S if too_soon else 0)
                uow.devices.polled(device.id, now, interval)
                uow.commit()
                if too_soon:
                    raise DeviceFlowError(
                        "slow_down", f"Polling too fast: wait {interval} seconds between polls."
                    )
                raise DeviceFlowError(
                    "authorization_pending", "Waiting for the person to approve at /device."
                )
            issued = self._hand_out(uow, device, requester)
            uow.commit()
        return issued

    def _hand_out(
        self, uow: UnitOfWork, device: DeviceAuthorization, requester: Requester
    ) -> IssuedToken:
        user = uow.accounts.get_user(device.user_id) if device.user_id else None
        if user is None or not uow.devices.decide(
            device.id, DeviceStatus.DONE, None, was=DeviceStatus.APPROVED
        ):
            raise _invalid_grant()  # another poll took it a moment ago
        issued = self.tokens.issue(
            uow, user_id=user.id, name=device.name, scope=Scope.user(), origin=Origin.EMAIL
        )
        record(
            uow, EventType.TOKEN_CREATED, now=self.clock(), token=issued.token, actor=None,
            requester=requester,
        )  # fmt: skip
        return issued

    def pending(self, user_code: str, requester: Requester = NOBODY) -> DeviceAuthorization:
        """The pending request a typed code names. A wrong code counts as a failure of
        the address (and may raise `RateLimited`), so codes cannot be guessed quickly."""
        address = requester.ip or ""
        if self.address_limiter.enabled:
            self.address_limiter.check(address)
        code = normalize_user_code(user_code)
        device = None
        if code is not None:
            with self.uow() as uow:
                device = uow.devices.by_user_code(self.digester.digest(code))
        if (
            device is None
            or device.status is not DeviceStatus.PENDING
            or device.is_expired(self.clock())
        ):
            if self.address_limiter.enabled:
                self.address_limiter.record_failure(address)
            raise NotFound("That code is not valid: check it, or start again on the device.")
        return device

    def decide(
        self, person: Person, user_code: str, *, approve: bool, requester: Requester = NOBODY
    ) -> DeviceAuthorization:
        device = self.pending(user_code, requester)
        status = DeviceStatus.APPROVED if approve else DeviceStatus.DENIED
        with self.uow(write=True) as uow:
            if not uow.devices.decide(device.id, status, person.user.id, was=DeviceStatus.PENDING):
                raise NotFound("That code is not valid: check it, or start again on the device.")
            event = EventType.DEVICE_APPROVED if approve else EventType.DEVICE_DENIED
            record_account(
                uow, event, now=self.clock(), user_id=person.user.id, requester=requester
            )
            uow.commit()
        return device


def _invalid_grant() -> DeviceFlowError:
    return DeviceFlowError("invalid_grant", "The device code is not valid.")


def _text(field: str, value: str | None, max_length: int, *, required: bool = False) -> str:
    if not value or not value.strip():
        if required:
            raise ValidationFailed(f"{field} is required.")
        return ""
    if len(value) > max_length or has_control_characters(value):
        raise ValidationFailed(
            f"{field} must be at most {max_length} characters, none of them control characters."
        )
    return value
