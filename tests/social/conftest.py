"""Shared pieces of the social tests (tests/social/<feature>/ mirror plugin/social/<feature>/).

The database session is the suite's ``db`` fixture (tests/conftest.py). Rows come from
:mod:`tests.social.social_world` (a course with people and cohorts, ``course_board`` for a course
with its board, ``count_queries``); launches and the JSON API from :mod:`tests.social.social_web`;
the browser helpers from :mod:`tests.social.browser_boards_support`.
"""
