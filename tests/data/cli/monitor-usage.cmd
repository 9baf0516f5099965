qemu-monitor-command nosuch
