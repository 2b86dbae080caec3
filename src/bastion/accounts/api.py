"""Bearer-token authentication for the API (`Authorization: Bearer bst_...`)."""

from ninja.security import HttpBearer

from bastion.accounts.models import ApiToken, hash_token


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        request.user = found.user
        return found.user

