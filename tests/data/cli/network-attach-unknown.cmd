network-attach nosuch bridge=xenbr0
