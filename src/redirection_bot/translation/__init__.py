"""The translation workflow: which source text each translation was made from, its status
(missing, needs update, untracked, done), and exchange files for translators (CSV, XLIFF).

Texts stay in python-i18n's own layout, ``locales/<namespace>.<locale>.yml``. Beside them,
``locales/.translation-records/<locale>.yml`` records, per key, the default-locale text that
each translation was made from; the locale loader skips hidden folders, so python-i18n and
our catalog never see it. See docs/translating.md.
"""
