"""Signals areas above accounts listen to, so accounts does not import them."""

from django.dispatch import Signal

# Sent inside the transaction that suspended the employer; kwargs: employer, actor. Jobs takes the
# employer's posts off the board in that same transaction.
employer_suspended = Signal()
