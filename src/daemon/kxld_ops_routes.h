/* kxld_ops_routes.h - the handlers of kxld's routes for a running domain's operations beyond
 * its lifecycle (kxld_routes_domain.c) and for its devices, snapshots and the host's networks
 * (kxld_routes_devices.c). Each parses its request into the one libkxl call the command line
 * makes; the table that names their routes is kxld_routes.c's. Contract: kxld.h's
 * kxld_handler and kxld_check. */
#pragma once

#include "daemon/kxld.h"

/* kxld_routes_domain.c */
int kxld_rename_domain(const kxld_request *rq, json_object **out_r);
int kxld_trigger_domain(const kxld_request *rq, json_object **out_r);
int kxld_sysrq_domain(const kxld_request *rq, json_object **out_r);
int kxld_dump_core_check(const kxld_request *rq);
int kxld_dump_core(const kxld_request *rq, json_object **out_r);
int kxld_cancel_job(const kxld_request *rq, json_object **out_r);
int kxld_list_vcpus(const kxld_request *rq, json_object **out_r);
int kxld_pin_vcpu(const kxld_request *rq, json_object **out_r);
int kxld_save_check(const kxld_request *rq);
int kxld_save_domain(const kxld_request *rq, json_object **out_r);
int kxld_restore_domain(const kxld_request *rq, json_object **out_r);

/* kxld_routes_devices.c */
int kxld_attach_disk(const kxld_request *rq, json_object **out_r);
int kxld_detach_disk(const kxld_request *rq, json_object **out_r);
int kxld_insert_medium(const kxld_request *rq, json_object **out_r);
int kxld_eject_medium(const kxld_request *rq, json_object **out_r);
int kxld_attach_vif(const kxld_request *rq, json_object **out_r);
int kxld_detach_vif(const kxld_request *rq, json_object **out_r);
int kxld_snapshot_check(const kxld_request *rq);
int kxld_create_snapshot(const kxld_request *rq, json_object **out_r);
int kxld_list_snapshots(const kxld_request *rq, json_object **out_r);
int kxld_revert_snapshot(const kxld_request *rq, json_object **out_r);
int kxld_delete_snapshot(const kxld_request *rq, json_object **out_r);
int kxld_list_networks(const kxld_request *rq, json_object **out_r);
