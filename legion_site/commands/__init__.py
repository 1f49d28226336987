"""Legion's command groups, each registered with the `legion` management command."""
