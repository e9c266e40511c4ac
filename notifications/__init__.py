"""Notifications: the outbox of SMS and in-app messages, their templates and delivery backends."""
