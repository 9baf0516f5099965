pci-attach x 0000:99:1f.7
