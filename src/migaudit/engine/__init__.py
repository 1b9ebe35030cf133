"""Evaluating rules: dense numpy, Spark, cross-table figures, exact localization."""
