pci-assignable-add 01:00
