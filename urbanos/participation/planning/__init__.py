"""DIPAS-style planning projects: map contributions with threaded comments, ratings and moderation."""
