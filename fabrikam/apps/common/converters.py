"""Path converters shared by every API's URLs (registered in CommonConfig.ready)."""

from fabrikam.contract.ids import ID_REGEX


class IdConverter:
    """Resource ids (the contract's id rule): no slashes, no spaces."""

    regex = ID_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
