from __future__ import annotations

from dataclasses import dataclass


class DeliveryError(Exception):
    """A message did not go out. ``permanent``: retrying cannot help (unknown chat, refused address).

    An infrastructure failure of a channel, not a domain error: the delivery row records it."""

    def __init__(self, message: str, *, retry_after: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


@dataclass(frozen=True)
class Audience:
    """One recipient on a channel: the kinds of alert their role acts on, at the places they work at.

    ``location_ids`` is ``None`` for every place (the administrator, or a chat
    configured for a whole role).
    """

    target: str
    kinds: tuple[str, ...]
    location_ids: frozenset[int] | None = None


class Channel:
    name: str = ""

    def audiences(self) -> list[Audience]:
        raise NotImplementedError

    def send(self, *, target: str, subject: str, text: str) -> None:
        raise NotImplementedError
