shutdown -a nosuch
