pci-assignable-add 0000:99:1f.7
