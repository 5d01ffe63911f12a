"""``GET /v2/user``: the calling token's user, in the shape tokend answers."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class UserView(APIView):
    # Authentication (knox) and permission (IsAuthenticated) come from settings.

    def get(self, request: Request) -> Response:
        user: Any = request.user
        return Response(
            {
                "user": {
                    "id": str(user.pk),
                    "email": user.email or None,
                    "name": user.get_full_name() or None,
                    "username": user.get_username(),
                    "createdAt": int(user.date_joined.timestamp() * 1000),
                    "avatar": None,
                    "defaultTeamId": None,
                    "limited": False,
                }
            }
        )
