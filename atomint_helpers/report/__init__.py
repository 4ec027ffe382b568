"""Verdicts and words: each claim of the paper scored against what interpret/ computed, and the scorecard.

``claims``     the charge claims and the helpers every chapter shares (quick-profile note, verdicts)
``energies``   Fig. 2 and §1: rows() with each claim's rule, what_we_see()
``rings``      Fig. 3: rows() with each claim's rule, what_we_see()
``scorecard``  rows of every chapter collected into the book's scorecard (``_build/scorecard.json``)
"""
