create-image --hostname a --hostname b --dir /nonexistent
