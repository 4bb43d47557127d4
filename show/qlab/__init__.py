"""QLab-compatible OSC control and its Bonjour adverts."""
