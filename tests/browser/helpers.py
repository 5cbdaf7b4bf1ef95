"""Steps shared by the browser scenarios."""

from __future__ import annotations

from dpi.models import User
from sandbox.demo import current_totp_code
from tests.factories import PASSWORD


def log_in(page, live_server, user: User, shots=None) -> None:
    """Password, then the current TOTP code, as a person would type them."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    if shots:
        shots(page, "login")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(current_totp_code(user))
    if shots:
        shots(page, "second-factor")
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_selector("[data-testid=user-name]")
