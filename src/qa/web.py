"""The question page (issue 3 fills this in); served by the same app at ``/``."""

from __future__ import annotations


def register_web(app) -> None:
    return None
