"""The same rules in other tools: pandera, Great Expectations, hypothesis, generated cubes."""
