unpause 7
