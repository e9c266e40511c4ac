"""Accounts: users keyed on a mobile number, real-name, employers and their vetting, certificates,
worker profiles and the "1+17+N" service points."""
