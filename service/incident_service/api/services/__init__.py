"""GraphQL side of services (status-page components)."""
