"""The engine: durable_rules' Rete core on a host of its own, evaluations, incremental sessions, report building; imports `language`, `model`."""
