"""E-mail notifier (placeholder until built): see issue on lifecycle and notifications."""
