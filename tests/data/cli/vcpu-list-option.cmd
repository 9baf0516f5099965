vcpu-list -x
