vcpu-pin nosuch 0 all
