"""The application bundle: a program loaded with everything it needs (its texts, safety
rules, services and translation records) and the checks that look at all of them together.

It sits above ``dialogue``, ``engine``, ``i18n``, ``safety``, ``services`` and
``translation``; none of them imports it.
"""
