vcpu-list nosuch
