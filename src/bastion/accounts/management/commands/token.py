"""`bastion token USERNAME`: issue an API token and print it (shown once, stored hashed)."""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from bastion.accounts.services import token_issue, token_revoke_all


class Command(BaseCommand):
    help = "Print a new API bearer token for USERNAME."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="cli")
        parser.add_argument("--revoke", action="store_true", help="revoke the user's tokens")

    def handle(self, *args, username, label, revoke, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if revoke:
            self.stdout.write(f"revoked {token_revoke_all(user=user)} token(s)")
            return
        self.stdout.write(token_issue(user=user, label=label))
