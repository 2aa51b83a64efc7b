"""The built-in public status page: static HTML, CSS and JavaScript, no build step."""
