pause nosuch
