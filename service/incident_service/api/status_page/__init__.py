"""GraphQL side of the public status page (public types only)."""
