"""The HTTP API of Wardens: app factory, error model, auth and the core resources."""

from api.app import create_app

__all__ = ["create_app"]
