"""Encryption at rest and blind indexes for personal data (PIPL art. 28).

Values are encrypted with Fernet (AES-128-CBC + HMAC) from ``cryptography``; the key list allows rotation:
the first key encrypts, every key decrypts. A blind index is a keyed HMAC of the normalised value, so a
column can be unique and searchable without holding the value itself.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with the configured keys") from exc


def encrypt_bytes(data: bytes) -> bytes:
    """A file's bytes (an ID card photo) as a Fernet token, for a binary column."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(bytes(token))
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored file cannot be decrypted with the configured keys") from exc


def blind_index(value: str, *, purpose: str) -> str:
    key = settings.BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is empty")
    return hmac.new(f"{purpose}:{key}".encode(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python sees the plain value. Not searchable: pair it with a
    blind index column for look-ups."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
