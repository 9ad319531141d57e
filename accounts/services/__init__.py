"""Every write of the accounts app, by whom it serves.

- ``staff``: the roles' permission groups and the staff second factor (TOTP, backup codes).
- ``customers``: the customer's account through the API: sign-up, log-in, tokens, password, profile.
- ``otp``: one-time SMS codes: issue, verify, send after commit, caps per phone and per client.
"""
