vcpu-list
