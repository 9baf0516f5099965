tls-setup --import /nonexistent-kxl-dir
