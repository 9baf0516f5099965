vcpu-pin nosuch 0
