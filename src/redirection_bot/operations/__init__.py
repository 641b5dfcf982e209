"""Running the bot: the operator's configuration, plug-in discovery, logging without
content, metrics and evaluation counts, listeners, patience with servers that are away,
office hours, and the keyring."""
