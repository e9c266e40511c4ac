"""What the wallet tells the apps above it (it imports none of them)."""

from django.dispatch import Signal

#: Money reached an employer's account (a top-up, a refused premium). Sent inside the transaction that
#: moved it, with ``employer`` (the Employer or its pk); a receiver's error rolls the credit back.
employer_credited = Signal()
