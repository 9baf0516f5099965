shutdown -w nosuch
