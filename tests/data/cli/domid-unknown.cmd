domid nosuch
