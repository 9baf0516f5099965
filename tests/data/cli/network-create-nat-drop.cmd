network-create nq type=nat 'bridge=b";drop;#' address=10.0.0.1/24
