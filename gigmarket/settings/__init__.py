"""Settings split by where the platform runs: base (shared), local, production, test."""
