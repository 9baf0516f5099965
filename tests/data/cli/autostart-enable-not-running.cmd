autostart-enable nosuch
