"""The rule language: conditions, rules and packs, their compiler onto durable_rules, the linter, rule docs; imports `model`."""
