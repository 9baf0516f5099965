tls-setup --sign host-b
