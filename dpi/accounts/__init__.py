"""Accounts (REM chapter 5, IAM and IE): password policy of privileged accounts, recovery contact
verification, directory synchronisation, account export for recertification."""
