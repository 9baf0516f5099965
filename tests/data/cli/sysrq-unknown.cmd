sysrq nosuch s
