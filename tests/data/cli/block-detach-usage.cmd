block-detach nosuch
