from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.accounts.permissions import (
    OWNER_READ,
    SERVICE,
    hide_unless_owner,
    require_owner,
)
from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.common.summary import OwnerSummaryAPIView
from fabrikam.apps.packages import selectors, services
from fabrikam.apps.packages.api.serializers import (
    MAX_OWNER_ID_LENGTH,
    OwnerQuerySerializer,
    PackagePatchSerializer,
    PackageSerializer,
    PackageWriteSerializer,
    SummaryQuerySerializer,
    SummarySerializer,
)
from fabrikam.apps.packages.exceptions import PackageNotFound
from fabrikam.web.openapi import SOME_TEXT, problems

AMBIGUOUS = "No ?ownerId= given, and several owners have a package with this id."
OWNER_ID = OpenApiParameter(
    "ownerId",
    {"type": "string", "maxLength": MAX_OWNER_ID_LENGTH, "pattern": SOME_TEXT},
    description=(
        "Whose package: package ids are unique per owner. A business means its own (naming "
        "another is a 403); admin and internal callers name the owner, or get the only package "
        "with the id (a 409 when several owners have one)."
    ),
)


def _owner(request: Request) -> str | None:
    """The owner of the package the caller means; None: any owner (admin and internal callers
    that name none)."""
    query = OwnerQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    named = query.validated_data.get("ownerId")
    if named is not None:
        require_owner(request, named)
        return named
    principal: Principal = request.user
    return None if principal.acts_for_every_owner else principal.owner_id


class PackageView(APIView):
    # Packages are written by the workflow only.
    required_scopes = {"GET": OWNER_READ, "PUT": SERVICE, "PATCH": SERVICE}

    @extend_schema(
        parameters=[OWNER_ID],
        responses={200: PackageSerializer, **problems(409, s409=AMBIGUOUS)},
        operation_id="getPackage",
    )
    def get(self, request: Request, package_id: str) -> Response:
        package = selectors.get_package(package_id, _owner(request))
        hide_unless_owner(request, package.owner_id, PackageNotFound.of(package_id))
        return Response(PackageSerializer(package).data)

    @extend_schema(
        request=PackageWriteSerializer,
        responses={201: PackageSerializer, 204: None},
        operation_id="putPackage",
    )
    def put(self, request: Request, package_id: str) -> Response:
        serializer = PackageWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owner_id = serializer.validated_data.pop("owner_id")
        if _owner(request) not in (None, owner_id):
            raise exceptions.ValidationError(
                {"ownerId": ["The query and the body name two owners."]}
            )
        package, created = services.upsert_package(owner_id, package_id, serializer.validated_data)
        if created:
            return Response(PackageSerializer(package).data, status=status.HTTP_201_CREATED)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[OWNER_ID],
        request=PackagePatchSerializer,
        responses={204: None, **problems(409, s409=AMBIGUOUS)},
        operation_id="patchPackage",
    )
    def patch(self, request: Request, package_id: str) -> Response:
        owner_id = _owner(request)
        serializer = PackagePatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        # A partial body gets no defaults: only the fields the client sent are written.
        services.update_package(owner_id, package_id, serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "owner_id",
                {"type": "string", "maxLength": MAX_OWNER_ID_LENGTH, "pattern": SOME_TEXT},
                OpenApiParameter.PATH,
            ),
            OpenApiParameter(
                "year",
                {"type": "integer", "minimum": 1, "maximum": 9998},
                description="UTC year of registration",
            ),
            OpenApiParameter(
                "month", {"type": "integer", "minimum": 1, "maximum": 12}, description="needs year"
            ),
        ],
        responses={200: SummarySerializer, **problems(422, s422="A month without a year.")},
        operation_id="getPackageSummary",
    )
)
class OwnerSummaryView(OwnerSummaryAPIView):
    query_serializer_class = SummaryQuerySerializer
    summary_serializer_class = SummarySerializer

    def summarize(self, query: SummaryQuerySerializer) -> selectors.OwnerSummary:
        return selectors.owner_summary(**query.validated_data)
