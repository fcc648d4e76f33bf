"""Path converters shared by every API's URLs (registered in CommonConfig.ready)."""


class IdConverter:
    """Resource ids: 1-128 letters, digits, '.', '_' or '-' (no slashes, no spaces)."""

    regex = r"[A-Za-z0-9_.\-]{1,128}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
