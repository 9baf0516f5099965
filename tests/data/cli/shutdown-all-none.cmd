shutdown -a -w
