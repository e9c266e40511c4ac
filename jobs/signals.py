"""Signals other areas listen to, so jobs does not import them: matching pushes a post when it opens."""

from django.dispatch import Signal

# Sent after the transaction that opened the post has committed; kwargs: post_id.
post_opened = Signal()
