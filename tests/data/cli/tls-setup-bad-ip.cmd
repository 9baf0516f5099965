tls-setup --ip not-an-address
