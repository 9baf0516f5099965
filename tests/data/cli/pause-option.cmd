pause -x
