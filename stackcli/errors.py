"""The one error the command reports: a sentence for the operator, no stack trace."""


class StackCliError(Exception):
    pass
