from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.packages import selectors, services
from fabrikam.apps.packages.api.serializers import PackageSerializer, PackageWriteSerializer


class PackageView(APIView):
    @extend_schema(responses=PackageSerializer, operation_id="getPackage")
    def get(self, request: Request, package_id: str) -> Response:
        return Response(PackageSerializer(selectors.get_package(package_id)).data)

    @extend_schema(
        request=PackageWriteSerializer,
        responses={201: PackageSerializer, 204: None},
        operation_id="putPackage",
    )
    def put(self, request: Request, package_id: str) -> Response:
        serializer = PackageWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        package, created = services.upsert_package(package_id, serializer.validated_data)
        if created:
            return Response(PackageSerializer(package).data, status=status.HTTP_201_CREATED)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=PackageWriteSerializer, responses={204: None}, operation_id="patchPackage"
    )
    def patch(self, request: Request, package_id: str) -> Response:
        serializer = PackageWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_package(package_id, serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
