"""Renderers for people: reports as text, Markdown and HTML; explanations, comparisons, sweeps, rule docs; imports `analysis` and below."""
