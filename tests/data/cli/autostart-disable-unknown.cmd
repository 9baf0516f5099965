autostart-disable nosuch
