network-detach nosuch 0
