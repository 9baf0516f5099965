network-list
