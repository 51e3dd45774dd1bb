"""The one exception type for mistakes a user can fix."""


class UserInputError(ValueError):
    """Bad input from the user: the message says what is wrong and how to fix it.

    The command line prints the message alone (no traceback) and exits non-zero.
    """
