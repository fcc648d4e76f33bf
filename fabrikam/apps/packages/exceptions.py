from fabrikam.problems import NotFound


class PackageNotFound(NotFound):
    title = "Package not found"
    slug = "package-not-found"
