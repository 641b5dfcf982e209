"""A language server for the dialogue language (``redirection-bot lsp``)."""
