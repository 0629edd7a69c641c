"""Renderers for people: reports as text, Markdown and HTML; explanations, comparisons, sweeps, rule docs, the interview in a terminal; imports `analysis` and below."""
