"""The contract between the bounded contexts (API.md): what one context sends another and the
rules both sides read the same way.

Every context imports it and none owns it; it imports no context (`fabrikam.apps`), only the
standard library and Django, so any app can depend on it without depending on another app.
"""
