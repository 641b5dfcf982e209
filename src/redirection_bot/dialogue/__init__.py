"""The dialogue language: model, parsing, conditions, graphs and the lexicon (the checks that
need texts, safety rules and services too are in ``redirection_bot.program``)."""
