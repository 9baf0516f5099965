uptime -s nosuch
