"""Sandbox identity providers: a ProSanté Connect-like OpenID provider and a hospital one (``docs/identity.md``)."""
