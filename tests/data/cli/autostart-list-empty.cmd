autostart-list
