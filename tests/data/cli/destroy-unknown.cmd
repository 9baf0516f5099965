destroy nosuch
