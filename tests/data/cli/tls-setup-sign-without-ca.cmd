tls-setup --sign host-b --out /nonexistent-kxl-dir/b
