"""What reads and writes authored text: the one YAML reader and its schema reader, the
catalog of texts (i18n), the one cleaning and folding of typed text (look-alike letters
included), did-you-mean suggestions, and the output formats of located diagnostics."""
