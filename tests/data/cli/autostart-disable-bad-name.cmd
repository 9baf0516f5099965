autostart-disable '../etc'
