rename nosuch bad/name
