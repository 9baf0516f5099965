restore /nonexistent/x.save
