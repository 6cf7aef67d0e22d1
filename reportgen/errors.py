"""Errors a user can cause. The CLI prints them as one line and exits 2."""


class ReportgenError(Exception):
    """A problem with the user's input, named by file and reason."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    def __reduce__(self):
        # Rebuilt from its fields, so it crosses a process boundary (a --jobs
        # worker, a Dask worker) as the same class with the same message.
        return type(self), (self.path, self.reason)


class ProfileError(ReportgenError):
    """A profile that cannot be read or is malformed."""


class ManifestError(ReportgenError):
    """A site.yml that does not validate."""

    def __init__(self, path, reason, line=None):
        where = f"{path}:{line}" if line else str(path)
        Exception.__init__(self, f"{where}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.line = line

    def __reduce__(self):
        return type(self), (self.path, self.reason, self.line)


class UsageError(ReportgenError):
    """A command-line request that cannot be carried out as asked."""
