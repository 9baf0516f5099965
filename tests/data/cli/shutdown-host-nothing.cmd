shutdown-host
