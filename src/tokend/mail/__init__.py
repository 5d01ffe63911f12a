"""Email: the SMTP server of TOKEND_SMTP_URL, and the messages tokend sends."""
