snapshot-delete /nonexistent/g.cfg 'a b'
