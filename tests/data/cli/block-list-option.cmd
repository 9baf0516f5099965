block-list --json
