"""The post-incident review over GraphQL: postmortems, action items, the Markdown export."""
