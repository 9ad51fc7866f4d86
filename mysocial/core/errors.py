"""The contract's error shape, raised anywhere and rendered by one middleware."""
from __future__ import annotations


class ApiError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class NotAuthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


def error_body(message: str, status: int) -> dict:
    return {"message": message, "statusCode": status, "status": "error"}
