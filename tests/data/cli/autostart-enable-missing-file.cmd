autostart-enable web /nonexistent/web.cfg
