rename nosuch .hidden
