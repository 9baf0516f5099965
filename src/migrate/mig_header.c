/* mig_header.c - encoding and checking the header of a save file or migration stream (the
 * layout is in mig_header.h). Checks go from the outside in, so the message names the first
 * thing wrong: not ours (magic), newer than us (version), cut short (lengths), damaged
 * (checksum), then what the JSON must hold. */
#include "migrate/mig_header.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

/* QEMU's stream starts with QEMU_VM_FILE_MAGIC "QEVM" and QEMU_VM_FILE_VERSION 3, big-endian. */
static const unsigned char qemu_magic[8] = {'Q', 'E', 'V', 'M', 0, 0, 0, 3};

uint32_t mig_crc32(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

json_object *mig_header_to_json(const mig_header *h)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "config", json_object_get(h->config));
    json_object_object_add(o, "qemu_version", json_object_new_string(h->qemu_version));
    json_object_object_add(o, "machine", json_object_new_string(h->machine));
    json_object_object_add(o, "cpu_model", json_object_new_string(h->cpu_model));
    json_object_object_add(o, "accel", json_object_new_string(h->accel));
    json_object_object_add(o, "saved_at", json_object_new_int64(h->saved_at));
    if (h->copy_storage)
        json_object_object_add(o, "copy_storage", json_object_get(h->copy_storage));
    if (h->postcopy)
        json_object_object_add(o, "postcopy", json_object_new_boolean(true));
    return o;
}

void mig_header_encode(const mig_header *h, kx_buf *out)
{
    AUTOPTR(json_object) o = mig_header_to_json(h);
    const char *json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    size_t j = strlen(json);
    unsigned char fixed[MIG_FIXED_LEN];
    memcpy(fixed, MIG_MAGIC, 8);
    put_le(fixed + 8, MIG_FORMAT_VERSION, 4);
    put_le(fixed + 12, j, 4);
    put_le(fixed + 16, h->stream_len, 8);
    uint32_t crc = mig_crc32(mig_crc32(0, fixed, sizeof(fixed)), json, j);
    unsigned char tail[4];
    put_le(tail, crc, 4);
    kx_buf_addn(out, (const char *)fixed, sizeof(fixed));
    kx_buf_addn(out, json, j);
    kx_buf_addn(out, (const char *)tail, sizeof(tail));
}

int mig_header_from_json(json_object *o, const char *what, mig_header *h)
{
    static const char *const keys[] = {"qemu_version", "machine", "cpu_model", "accel"};
    char **dst[] = {&h->qemu_version, &h->machine, &h->cpu_model, &h->accel};
    json_object *cfg = NULL;
    if (!json_object_object_get_ex(o, "config", &cfg) ||
        !json_object_is_type(cfg, json_type_object)) {
        kx_err(KXL_ERR_INVALID, "'%s': the header holds no domain config", what);
        return -1;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++) {
        const char *v = kx_json_str(o, keys[i], NULL);
        if (!v || !*v) {
            kx_err(KXL_ERR_INVALID, "'%s': the header has no '%s'", what, keys[i]);
            return -1;
        }
        *dst[i] = kx_strdup(v);
    }
    json_object *copy = NULL;
    if (json_object_object_get_ex(o, "copy_storage", &copy) &&
        !json_object_is_type(copy, json_type_array)) {
        kx_err(KXL_ERR_INVALID, "'%s': the header's 'copy_storage' is not a list", what);
        return -1;
    }
    h->config = json_object_get(cfg);
    h->copy_storage = json_object_get(copy);
    h->postcopy = kx_json_bool(o, "postcopy", false);
    h->saved_at = kx_json_int(o, "saved_at", 0);
    return 0;
}

/* Magic and version, from as many bytes as there are (up to MIG_FIXED_LEN). */
static int check_prefix(const unsigned char *p, size_t len, const char *what)
{
    size_t m = len < 8 ? len : 8;
    if (memcmp(p, MIG_MAGIC, m) != 0) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a kxl save file or migration stream (no KXLSAVE "
               "header)", what);
        return -1;
    }
    if (len < 12)
        return 0;
    uint64_t version = get_le(p + 8, 4);
    if (version == 0 || version > MIG_FORMAT_VERSION) {
        kx_err(KXL_ERR_INVALID, version ? "'%s' was written by a newer kxl (format %llu; this "
                                          "kxl reads format %d): restore it with that kxl"
                                        : "'%s': the header is damaged (format %llu)",
               what, (unsigned long long)version, MIG_FORMAT_VERSION);
        return -1;
    }
    return 0;
}

int mig_header_decode(const void *buf, size_t len, const char *what, mig_header *h_r,
                      size_t *used_r)
{
    const unsigned char *p = buf;
    memset(h_r, 0, sizeof(*h_r));
    if (check_prefix(p, len, what) < 0)
        return -1;
    if (len < MIG_FIXED_LEN) {
        *used_r = MIG_FIXED_LEN;
        return 1;
    }
    uint64_t j = get_le(p + 12, 4);
    if (j == 0 || j > MIG_JSON_MAX) {
        kx_err(KXL_ERR_INVALID, "'%s': the header is damaged (a config of %llu bytes)", what,
               (unsigned long long)j);
        return -1;
    }
    size_t total = MIG_FIXED_LEN + (size_t)j + 4;
    if (len < total) {
        *used_r = total;
        return 1;
    }
    uint32_t crc = mig_crc32(0, p, total - 4);
    if (crc != (uint32_t)get_le(p + total - 4, 4)) {
        kx_err(KXL_ERR_INVALID, "'%s': the header is damaged (its checksum does not match)",
               what);
        return -1;
    }
    AUTOFREE char *text = kx_strndup((const char *)p + MIG_FIXED_LEN, (size_t)j);
    AUTOPTR(json_object) o = json_tokener_parse(text);
    if (!json_object_is_type(o, json_type_object)) {
        kx_err(KXL_ERR_INVALID, "'%s': the header's JSON cannot be read", what);
        return -1;
    }
    h_r->version = (unsigned)get_le(p + 8, 4);
    h_r->stream_len = get_le(p + 16, 8);
    if (mig_header_from_json(o, what, h_r) < 0) {
        mig_header_dispose(h_r);
        return -1;
    }
    *used_r = total;
    return 0;
}

int mig_stream_check(const void *buf, size_t len, const char *what)
{
    if (len >= sizeof(qemu_magic) && memcmp(buf, qemu_magic, sizeof(qemu_magic)) == 0)
        return 0;
    kx_err(KXL_ERR_INVALID, len < sizeof(qemu_magic)
                                ? "'%s' is truncated: the saved memory is missing"
                                : "'%s' is damaged: no QEMU migration stream after the header",
           what);
    return -1;
}

int mig_version_cmp(const char *a, const char *b)
{
    for (int part = 0; part < 4; part++) {
        char *ea, *eb;
        long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
    }
    return 0;
}

void mig_header_dispose(mig_header *h)
{
    json_object_put(h->config);
    json_object_put(h->copy_storage);
    free(h->qemu_version);
    free(h->machine);
    free(h->cpu_model);
    free(h->accel);
    memset(h, 0, sizeof(*h));
}
