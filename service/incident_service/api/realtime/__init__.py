"""GraphQL side of realtime: the public status page and the subscriptions."""
