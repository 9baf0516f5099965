rename nosuch other
