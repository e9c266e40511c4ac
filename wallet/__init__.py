"""Wallet: the double-entry ledger behind escrow and online settlement (线上结算，全流程监管)."""
