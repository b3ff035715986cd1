"""Competencies: one competency (its facts, CASE associations, exact matches, related items and the
evidence that counts for it), search, and their staff page and JSON API.

``catalog.py`` reads within one platform, ``services.py`` decides what a launched person may see,
``views.py`` / ``api.py`` / ``schemas.py`` / ``templates/competencies/`` are the page and the API.
"""
