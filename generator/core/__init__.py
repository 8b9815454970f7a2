"""Shared ground of every phase: problems and errors, the build context (dates), the
vocabulary (weekdays, distances, pressures, session kinds), atomic writes, core counts.
"""
