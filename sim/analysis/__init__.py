"""Analyses over draws: ensembles, observations, comparisons, backtests."""
