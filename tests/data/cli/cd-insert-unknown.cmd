cd-insert nosuch hdc /nonexistent.iso
