/* top_json.c - a frame of `kxl top --json`: one object a frame, the same numbers as the text
 * columns, unrounded, with each domain's vifs, disks and vCPUs. Pure: no I/O. */
#include "kxl/ops.h"
#include "kxl/stats.h"

static void add_u64(json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static json_object *nets_json(const kxl_domstats *d)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->n_nets; i++) {
        const kxl_net_stats *n = &d->nets[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "vifname", json_object_new_string(n->ifname));
        add_u64(o, "rx_bytes", n->rx_bytes);
        add_u64(o, "rx_packets", n->rx_packets);
        add_u64(o, "tx_bytes", n->tx_bytes);
        add_u64(o, "tx_packets", n->tx_packets);
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *vbds_json(const kxl_domstats *d)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->n_vbds; i++) {
        const kxl_vbd_stats *v = &d->vbds[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "vdev", json_object_new_string(v->vdev));
        add_u64(o, "oo", v->oo);
        add_u64(o, "rd_ops", v->rd_ops);
        add_u64(o, "wr_ops", v->wr_ops);
        add_u64(o, "rd_sectors", v->rd_sectors);
        add_u64(o, "wr_sectors", v->wr_sectors);
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *vcpus_json(const kxl_domstats *d)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->n_vcpus; i++) {
        const kxl_vcpu_info *v = &d->vcpus[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "vcpu", json_object_new_int64(v->vcpu));
        json_object_object_add(o, "online", json_object_new_boolean(v->online));
        json_object_object_add(o, "cpu", json_object_new_int64(v->cpu));
        json_object_object_add(o, "seconds", json_object_new_double(v->seconds));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *domain_json(const kxl_domstats *d)
{
    json_object *o = kxl_dominfo_to_json(&d->info);
    json_object_object_add(o, "cpu_seconds", json_object_new_double(d->info.cpu_seconds));
    json_object_object_add(o, "cpu_pct", json_object_new_double(d->cpu_pct));
    json_object_object_add(o, "qemu_cpu_seconds", json_object_new_double(d->qemu_cpu_seconds));
    add_u64(o, "mem_kib", d->mem_kib);
    add_u64(o, "maxmem_kib", d->maxmem_kib);
    add_u64(o, "rss_kib", d->rss_kib);
    json_object_object_add(o, "nets", nets_json(d));
    json_object_object_add(o, "vbds", vbds_json(d));
    json_object_object_add(o, "vcpu_list", vcpus_json(d));
    return o;
}

json_object *kxl_top_frame_json(const kxl_stats_frame *f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_double(f->wall));
    json_object *host = json_object_new_object();
    add_u64(host, "mem_total_kib", f->mem_total_kib);
    add_u64(host, "mem_free_kib", f->mem_free_kib);
    add_u64(host, "cpus", f->cpus);
    add_u64(host, "mhz", f->mhz);
    json_object_object_add(o, "host", host);
    json_object *doms = json_object_new_array();
    for (size_t i = 0; i < f->n_doms; i++)
        json_object_array_add(doms, domain_json(&f->doms[i]));
    json_object_object_add(o, "domains", doms);
    return o;
}
