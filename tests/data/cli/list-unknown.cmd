list nosuch
