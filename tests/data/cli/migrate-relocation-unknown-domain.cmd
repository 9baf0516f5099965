migrate --relocation 127.0.0.1:1 guest
