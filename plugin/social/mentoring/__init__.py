"""Mentoring widget (issue 11) — being built.

So far: the matching engine, plain Python and SciPy with no database and no Flask —
:mod:`plugin.social.mentoring.scoring` (a mentor's score for a request, with the parts people see)
and :mod:`plugin.social.mentoring.matching` (optimal bulk matching under capacities and
exclusions, and a greedy baseline). See docs/mentoring.md.
"""
