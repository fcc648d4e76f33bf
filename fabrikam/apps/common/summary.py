"""The shape every per-owner summary endpoint shares (deliveries per month, drone utilization,
package totals): GET, parse the query, check the caller may read that business's data, answer
what a selector computed.

A subclass names its query serializer (with an `ownerId` field), its summary serializer and
`summarize`. The owner is the query's `ownerId`, or the URL's `owner_id` where the path names it;
a path's owner is checked before the query is read.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from fabrikam.apps.accounts.permissions import OWNER_READ, require_owner


# No class docstring: drf-spectacular would make it every subclass's operation description.
class OwnerSummaryAPIView(APIView):
    required_scopes = {"GET": OWNER_READ}
    query_serializer_class: type[Serializer]
    summary_serializer_class: type[Serializer]

    def summarize(self, query: Any) -> Any:
        """What the summary serializer renders, from the validated `query` serializer."""
        raise NotImplementedError

    def get(self, request: Request, owner_id: str | None = None) -> Response:
        data = request.query_params
        if owner_id is not None:
            require_owner(request, owner_id)
            data = data.copy()
            data["ownerId"] = owner_id
        query = self.query_serializer_class(data=data)
        query.is_valid(raise_exception=True)
        if owner_id is None:
            require_owner(request, query.validated_data[query.fields["ownerId"].source])
        return Response(self.summary_serializer_class(self.summarize(query)).data)
