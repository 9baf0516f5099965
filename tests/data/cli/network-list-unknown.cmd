network-list nosuch
