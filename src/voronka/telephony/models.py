"""telephony channel."""
