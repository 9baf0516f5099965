network-create nq type=bridge 'bridge=a";uplink="lo'
