reboot -F nosuch
