"""The one exception tree of polaris-sync.

Lower layers translate what they meet (HTTP statuses, TOML errors, SQLite
errors) into these at their boundary, chaining the original. The CLI turns them
into one readable line and the exit code documented in the README:

- 0: every item synced; 1: some items failed (audited, retried next run);
- 2: bad configuration or input; 3: a server refused or could not be reached.
"""

from __future__ import annotations


class PolarisSyncError(Exception):
    """Root of every error polaris-sync reports to its user."""

    exit_code = 3


class ConfigError(PolarisSyncError):
    """The configuration file, a command-line argument or other input is wrong."""

    exit_code = 2


class RemoteError(PolarisSyncError):
    """A server could not be reached or refused the whole stage."""

    exit_code = 3


class TransientError(RemoteError):
    """A timeout, a dropped connection or a 5xx: the next run tries again."""


class AuthError(RemoteError):
    """A server refused our credentials (401, revoked or expired key)."""


class AssociationError(AuthError):
    """No pairing with Polaris, or Polaris refused it: associate again."""


class CertificateMismatch(AssociationError):
    """The Polaris server presented another certificate than the pinned one."""


class ItemRejected(PolarisSyncError):
    """One item (product, combination, sale...) was refused on its own.

    It is audited with the reason and retried on a later run; the other items
    go on.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codes: tuple[int, ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


class ServerUnreachable(TransientError):
    """No connection could be made: every further request would fail the same way."""
