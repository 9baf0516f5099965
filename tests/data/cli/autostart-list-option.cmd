autostart-list --yaml
