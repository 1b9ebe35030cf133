"""The tidy cube and what a cell means: tables, cubes, SSB symbols, periods."""
