snapshot-revert nosuch
