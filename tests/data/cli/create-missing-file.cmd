create -q /nonexistent/g.cfg
