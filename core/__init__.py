"""Shared building blocks: personal-data protection, domain errors, the audit log, API error shape."""
