restore
