"""API keys: minted by an ADMIN, shown once, stored only as a hash, revocable."""
