"""One module per ``redirection-bot`` command (see ``redirection_bot.cli``)."""
