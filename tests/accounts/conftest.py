import pytest

from tests.accounts.servers import directory, slapd, smtp, smtp_server  # noqa: F401  (fixtures)
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client):
    """A superuser with a second factor and a fresh password, signed in."""
    client.force_login(UserFactory(username="admin.test", is_staff=True, is_superuser=True))
    return client
