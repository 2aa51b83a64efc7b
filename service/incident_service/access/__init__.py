"""Who is calling: bearer API keys and OIDC tokens to a principal, within rate limits."""
