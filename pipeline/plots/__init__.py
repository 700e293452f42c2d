"""Figures, one function each, drawn from the stages' files alone (no model evaluation here).

fit draws the data, chi^2 and optimiser figures; posterior the NUTS and SVI figures; fixed_truth
and sbc those of the studies; common holds what they share. Which files and settings each figure
is drawn from is in registry, which the workflow reads while parsing its rules (this package
imports nothing heavy, so that stays fast).
"""
