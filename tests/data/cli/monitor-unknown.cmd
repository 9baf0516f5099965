qemu-monitor-command nosuch info status
