network-create nq type=nat address=10.0.0.1/24 'dhcp_range=10.0.0.2,10.0.0.9,--conf-file=/tmp/x'
