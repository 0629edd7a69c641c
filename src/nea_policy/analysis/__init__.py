"""Analyses on an Engine: explain and why-not, the matcher, counterfactuals, what-if, compare, sweep, the interview; imports `engine` and below."""
