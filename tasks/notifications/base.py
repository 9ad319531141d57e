from __future__ import annotations


class DeliveryError(Exception):
    """A message did not go out. ``permanent``: retrying cannot help (unknown chat, refused address)."""

    def __init__(self, message: str, *, retry_after: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Channel:
    name: str = ""

    def targets(self, role: str) -> list[str]:
        raise NotImplementedError

    def send(self, *, target: str, subject: str, text: str) -> None:
        raise NotImplementedError
