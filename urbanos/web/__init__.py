"""The web layer: app factory, error rendering, middleware, templates."""
