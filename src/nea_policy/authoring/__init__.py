"""Authoring: rule tests as data, their coverage, the pytest plugin, the fact-file template; imports `analysis` and below."""
