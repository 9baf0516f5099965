snapshot-create nosuch s1
