destroy -x
