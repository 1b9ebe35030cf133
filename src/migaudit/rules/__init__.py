"""Rules as data: rule kinds and loading, safe YAML, applicability, learnt rules."""
