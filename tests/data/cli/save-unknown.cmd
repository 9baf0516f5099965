save nosuch /tmp/x.save
