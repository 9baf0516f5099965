snapshot-list /nonexistent/g.cfg
