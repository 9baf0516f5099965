network-create nq type=bridge 'bridge="'
