cd-eject nosuch
