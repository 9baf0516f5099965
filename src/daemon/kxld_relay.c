/* kxld_relay.c - the relay to peer kxld hosts (kxld_relay.h), in a worker thread: one libcurl
 * request per call, with this host's certificate and the CA of kxl tls-setup
 * (ROOT/etc/kxl/tls, as kxld_peer_tls read and checked them last: renewed files are read again
 * for the next request), the peer's name checked against its certificate, no redirects, https
 * only, and bounds on time and size. The URL is kxld_relay_url's: only a configured peer, only
 * under its /api/v1/. A peer that cannot be reached, or whose certificate the CA did not sign,
 * is a 503 saying so. */
#include "daemon/kxld_relay.h"

#include <curl/curl.h>
#include <string.h>

#include "daemon/kxld_peer_tls.h"
#include "daemon/kxld_relay_url.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define RELAY_CONNECT_MS 3000          /* a peer that is down shows as such at once */
#define RELAY_TIMEOUT_S 660            /* GET .../jobs/{id}/wait?timeout=600 and its answer */
#define RELAY_MAX_REPLY (16u << 20)    /* bytes of a peer's reply */

void kxld_raw_reply_dispose(kxld_raw_reply *r)
{
    free(r->body);
    free(r->content_type);
    free(r->location);
    *r = (kxld_raw_reply){0};
}

void kxld_relay_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int kxld_list_hosts(const kxld_request *rq, json_object **out_r)
{
    *out_r = kxld_peers_json(rq->api_peers, "api");
    return 200;
}

typedef struct {
    kx_buf body;
    bool too_large;
} reply_sink;

static size_t on_data(char *data, size_t size, size_t n, void *opaque)
{
    reply_sink *s = opaque;
    if (s->body.len + size * n > RELAY_MAX_REPLY) {
        s->too_large = true;
        return 0;   /* ends the transfer */
    }
    kx_buf_addn(&s->body, data, size * n);
    return size * n;
}

/* The request's options: the peer's URL, this host's certificate, the CA, the method and body. */
static int set_options(CURL *c, const kxld_request *rq, const char *url,
                       struct curl_slist *headers, reply_sink *sink, char *errbuf)
{
    if (!rq->peer_tls) {
        kx_err(KXL_ERR_INTERNAL, "no certificate for peers here");
        return -1;
    }
    /* the files as they are now (read again when they changed), checked as a pair */
    kxld_peer_creds *t = kxld_peer_tls_get(rq->peer_tls);
    if (!t)
        return -1;
    /* libcurl copies the blobs (CURL_BLOB_COPY) */
    struct curl_blob cert = {t->cert, t->cert_len, CURL_BLOB_COPY};
    struct curl_blob key = {t->key, t->key_len, CURL_BLOB_COPY};
    struct curl_blob ca = {t->ca, t->ca_len, CURL_BLOB_COPY};
    CURLcode e = CURLE_OK;
    e |= curl_easy_setopt(c, CURLOPT_URL, url);
    e |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    e |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    e |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM for timeouts */
    e |= curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    e |= curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    e |= curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    e |= curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    e |= curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    /* this CA only, not the system's */
    e |= curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
    e |= curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    e |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)RELAY_CONNECT_MS);
    e |= curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)RELAY_TIMEOUT_S);
    e |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    e |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    e |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    e |= curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    e |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (rq->body_text && rq->body_text[0])
        e |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body_text);
    else if (strcmp(rq->method, "GET") != 0)
        e |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    if (strcmp(rq->method, "GET") == 0)
        e |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    kxld_peer_creds_unref(t);
    if (e != CURLE_OK) {
        kx_err(KXL_ERR_INTERNAL, "cannot set up the relay's request (libcurl)");
        return -1;
    }
    return 0;
}

/* The peer's answer into *out_r: status, body, type, Location (as this host's path). */
static void take_reply(CURL *c, const char *host, reply_sink *sink, kxld_raw_reply *out_r)
{
    long status = 502;
    char *type = NULL;
    struct curl_header *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    out_r->status = (int)status;
    out_r->body_len = sink->body.len;
    out_r->body = sink->body.len ? kx_buf_steal(&sink->body) : NULL;
    kx_buf_dispose(&sink->body);
    out_r->content_type = kx_strdup(type && !strpbrk(type, "\r\n") ? type : "application/json");
    if (curl_easy_header(c, "Location", 0, CURLH_HEADER, -1, &loc) == CURLHE_OK)
        out_r->location = kxld_relay_location(host, loc->value);
}

int kxld_relay(const kxld_request *rq, kxld_raw_reply *out_r)
{
    const char *host = http_param(rq->params, "host");
    AUTOFREE char *url = kxld_relay_url(rq->api_peers, host, http_param(rq->params, "path"),
                                        rq->query);
    if (!url)
        return -1;
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    if (rq->body_text && rq->body_text[0])
        headers = curl_slist_append(headers, "Content-Type: application/json");
    if (rq->respond_async)
        headers = curl_slist_append(headers, "Prefer: respond-async");
    headers = curl_slist_append(headers, "Expect:");   /* no 100-continue round trip */
    reply_sink sink = {.body = KX_BUF_INIT};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    int rc = -1;
    if (!c)
        kx_err(KXL_ERR_INTERNAL, "cannot start a request to '%s' (libcurl)", host);
    else if (set_options(c, rq, url, headers, &sink, errbuf) == 0) {
        CURLcode e = curl_easy_perform(c);
        if (e == CURLE_OK) {
            take_reply(c, host, &sink, out_r);
            rc = 0;
        } else if (sink.too_large) {
            kx_err(KXL_ERR_HOST, "host '%s' answered more than %u bytes", host,
                   RELAY_MAX_REPLY);
        } else {
            kx_err(KXL_ERR_HOST, "host '%s' (%s) is unreachable: %s", host,
                   kxld_peer_address(rq->api_peers, host), errbuf[0] ? errbuf : curl_easy_strerror(e));
        }
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    kx_buf_dispose(&sink.body);
    kx_info("relay: %s %s: %s", rq->method, url, rc == 0 ? "answered" : kx_err_msg());
    return rc;
}
