"""Errors a user can act on: each renders as one line naming where the problem is."""


class InputError(Exception):
    """Bad input (scenario file, option value). The CLI prints str(error) and exits with 2."""
