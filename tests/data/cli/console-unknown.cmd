console nosuch
