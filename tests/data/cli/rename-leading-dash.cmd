rename nosuch -x
