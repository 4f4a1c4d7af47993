"""The portal's refusal: a request it will not carry out, with a message fit to show the user."""

from __future__ import annotations


class PortalError(ValueError):
    """Input the portal refuses, with a sentence the user can act on."""
