"""Single values that identify a person: NHS and National Insurance numbers, UK phone numbers, e-mail
addresses and full postcodes.

The checks the personal-data detector (:mod:`.detect`), the free-text scrubber (:mod:`.scrub`) and the
schema's number validation (:mod:`.schema`) share; below all three, so none imports another for them.
"""

from __future__ import annotations

import re

_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_FULL_POSTCODE_RE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})$")
_OUTWARD_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
# After removing spaces, hyphens, dots and brackets: +44 / 0044 / 0 then a UK number of 9 or 10 digits
# starting 1, 2, 3, 5, 7, 8 or 9 (geographic, non-geographic, mobile, freephone/premium).
_PHONE_RE = re.compile(r"^(?:\+44|0044|0)[1235789][0-9]{8,9}$")
_NINO_RE = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus-11 check digit of the first nine digits of an NHS number (None if no valid digit exists).

    Formula: weights 10, 9, ..., 2 on digits 1..9; ``check = 11 - (sum mod 11)``; 11 becomes 0; 10
    means the number cannot be valid.
    """
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: object) -> bool:
    """True when ``value`` is 10 digits (spaces or hyphens allowed) whose last is the modulus-11 check."""
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"[0-9]{10}", digits):
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


def is_valid_ni_number(value: object) -> bool:
    """National Insurance number in HMRC's format: two prefix letters, six digits, suffix A-D.

    Neither prefix letter is D, F, I, Q, U or V; the second is not O; the prefixes BG, GB, KN, NK, NT, TN
    and ZZ are not allocated. Spaces are ignored and case is ignored.
    """
    return bool(_NINO_RE.match(re.sub(r"\s", "", str(value)).upper()))


def is_uk_phone(value: object) -> bool:
    text = re.sub(r"[\s().-]", "", str(value))
    return bool(_PHONE_RE.match(text))


def is_email(value: object) -> bool:
    return bool(_EMAIL_RE.match(str(value).strip()))


def is_full_postcode(value: object) -> bool:
    """A complete UK postcode (outward and inward code), e.g. ``NP20 1AB``; outward-only codes are not."""
    return bool(_FULL_POSTCODE_RE.match(re.sub(r"\s+", " ", str(value).strip().upper())))


def is_outward_code(value: object) -> bool:
    return bool(_OUTWARD_RE.match(str(value).strip().upper()))
