pci-assignable-remove -x 01:00.0
