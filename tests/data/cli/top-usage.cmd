top extra
