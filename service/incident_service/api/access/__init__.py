"""GraphQL side of API keys and the caller's identity (ADMIN only, except `me`)."""
