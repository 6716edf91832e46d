"""The one exception the exporter raises for problems a user can fix; the CLI prints it without a traceback."""


class ExportError(Exception):
    """A problem with the snapshot, the options or a check, with a message that says what to do."""
