"""Values PrestaShop would refuse, made valid before they are sent.

Each function returns the value to send; the product builder records a warning
whenever the value had to change, so the shop owner sees why.
"""

from __future__ import annotations

import re

from polaris_sync.mapping.colours import plain

NAME_MAX = 128
REFERENCE_MAX = 64
SLUG_MAX = 128

# isCatalogName refuses these in names; isReference the same minus `#`.
# References also lose brackets, which no Webservice filter can match: a
# reference is how an object is found again after an interrupted run.
_NAME_FORBIDDEN = re.compile(r"[<>;=#{}]")
_GENERIC_FORBIDDEN = re.compile(r"[<>={}]")
_REFERENCE_FORBIDDEN = re.compile(r"[<>;={}\[\]]")
# isCleanHtml refuses scripts, event handlers, javascript: links and embeds.
_UNSAFE_HTML = re.compile(
    r"<\s*(script|iframe|form|input|embed|object)\b.*?(</\s*\1\s*>|/?>)",
    re.IGNORECASE | re.DOTALL,
)
_EVENT_HANDLER = re.compile(r"\son\w+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)
_JAVASCRIPT_LINK = re.compile(r"javascript\s*:", re.IGNORECASE)


def catalog_name(text: str) -> str:
    """A product name the shop accepts: no `< > ; = # { }`, at most 128 chars."""
    cleaned = " ".join(_NAME_FORBIDDEN.sub(" ", text).split())
    return _shorten(cleaned, NAME_MAX)


def generic_name(text: str, limit: int) -> str:
    """A feature or attribute text the shop accepts: no `< > = { }`."""
    return _shorten(" ".join(_GENERIC_FORBIDDEN.sub(" ", text).split()), limit)


def reference(text: str) -> str:
    cleaned = "".join(_REFERENCE_FORBIDDEN.sub("", text).split())
    return cleaned[:REFERENCE_MAX]


def slug(text: str, fallback: str) -> str:
    """Lower-case ASCII, digits and dashes; never empty."""
    for candidate in (text, fallback):
        value = re.sub(r"[^a-z0-9]+", "-", plain(candidate)).strip("-")
        if value:
            return value[:SLUG_MAX].rstrip("-")
    return "product"


def clean_html(html: str) -> str:
    without_embeds = _UNSAFE_HTML.sub("", html)
    without_handlers = _EVENT_HANDLER.sub("", without_embeds)
    return _JAVASCRIPT_LINK.sub("", without_handlers)


def valid_ean(code: str, max_digits: int = 13) -> bool:
    """A GS1 code (EAN-8, UPC-A, EAN-13, GTIN-14 where allowed) with its check digit.

    The shop checks only digits and length; a wrong check digit is refused by
    marketplaces and scanners later, so it is caught here.
    """
    if not code.isdigit() or len(code) not in (8, 12, 13, 14) or len(code) > max_digits:
        return False
    digits = [int(d) for d in code]
    body, check = digits[:-1], digits[-1]
    weighted = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - weighted % 10) % 10 == check


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip()
