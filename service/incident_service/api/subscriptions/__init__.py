"""Subscriptions, fed by the change stream through the broker; shared execution of broadcasts."""
