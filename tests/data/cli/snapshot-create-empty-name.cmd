snapshot-create /nonexistent/g.cfg ''
