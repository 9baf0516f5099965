block-list --json nosuch
