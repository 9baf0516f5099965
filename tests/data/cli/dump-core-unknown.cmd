dump-core nosuch core.elf
