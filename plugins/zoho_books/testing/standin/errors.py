"""How the stand-in refuses a request: HTTP status, Zoho code, message."""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
