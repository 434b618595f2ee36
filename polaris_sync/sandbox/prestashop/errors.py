"""Errors the emulated webservice answers with, and the PHP noise it adds."""

from __future__ import annotations

# PrestaShop 8.1.2 on PHP 8.2 follows every bad query parameter error (codes
# 28, 32-39) with the same four warnings, which turns the answer into a 500.
_WARNING_LINES = (1333, 1334, 1335, 1336)
PARAMETER_WARNINGS = tuple(
    (
        3,
        "[PHP Warning #2] Trying to access array offset on value of type bool "
        f"(/var/www/prestashop/classes/webservice/WebserviceRequest.php, line {n})",
    )
    for n in _WARNING_LINES
)


class WsError(Exception):
    """An answer with an error envelope: HTTP status and (code, message) pairs."""

    def __init__(self, status: int, *errors: tuple[int, str]) -> None:
        super().__init__(", ".join(f"{c}: {m}" for c, m in errors))
        self.status = status
        self.errors = list(errors)


class ParameterError(WsError):
    """A malformed filter, sort, display, limit or schema parameter."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(500, (code, message), *PARAMETER_WARNINGS)


class EmptyAnswer(Exception):
    """An answer with no body at all (404 of a single GET, SQL failures...).

    ``text`` is for the few PHP ``die()`` answers that print one plain line
    and nothing else (e.g. an order placed twice from the same cart).
    """

    def __init__(
        self, status: int, content_type: str | None = None, text: str = ""
    ) -> None:
        super().__init__(text or f"empty {status}")
        self.status = status
        self.content_type = content_type
        self.text = text


def sql_failure() -> EmptyAnswer:
    """What a SQL error (a unique key clash) looks like: 500, empty text/html."""
    return EmptyAnswer(500, "text/html; charset=utf-8")


def validation_error(code: int, message: str) -> WsError:
    return WsError(400, (code, f'Validation error: "{message}"'))
