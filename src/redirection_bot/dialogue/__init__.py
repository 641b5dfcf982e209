"""The dialogue language: model, parsing, checks, conditions and graphs."""
