/* host_cpu.h - xl info's CPU facts of this host. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

/* Adds max_cpu_id, nr_nodes, cores_per_socket, threads_per_core, cpu_mhz, hw_caps and
 * virt_caps to o, in xl's order; kvm: whether KVM can run guests here. */
void host_cpu_facts(json_object *o, bool kvm);
