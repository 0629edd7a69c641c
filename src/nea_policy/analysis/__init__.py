"""Analyses on an Engine: explain and why-not, the matcher, counterfactuals, what-if, compare, sweep; imports `engine` and below."""
