pci-detach -f x 01:00.0
