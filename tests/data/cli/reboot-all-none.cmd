reboot -a
