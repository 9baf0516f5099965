top -b -d 0
