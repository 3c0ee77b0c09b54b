"""/api/v1/auth/: exchange a username and password for a token, and revoke it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.schema import errors
from billing.api.serializers import LoginSerializer, TokenSerializer
from billing.api.throttling import LoginRateThrottle
from billing.services.tokens import token_issue


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        summary="Log in: returns a token for the Authorization header (`Token <token>`)",
        request=LoginSerializer,
        responses={200: TokenSerializer, **errors(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        credentials = LoginSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        token, expiry = token_issue(**credentials.validated_data)
        return Response(TokenSerializer({"token": token, "expiry": expiry}).data)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Log out: revokes the token this request carries",
        request=None,
        responses={204: None, **errors(401, 429)},
    )
    def post(self, request: Request) -> Response:
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
