"""Verdicts and words: each claim of the paper scored against what interpret/ computed, and the scorecard.

``claims``     the rules (metric and threshold, written before the number is seen) and "what we see" text
``scorecard``  rows of every chapter collected into the book's scorecard (``_build/scorecard.json``)
"""
