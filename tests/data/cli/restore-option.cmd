restore -x f
