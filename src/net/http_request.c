/* The request the handler gets (otflow/http_server.h), whichever protocol
 * it came by: its accessors, freeing, and the pieces both connection
 * kinds build it with (http_conn.c for HTTP/1.1, http2_session.c). */
#include "net/http_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

void otf__http_request_free(otf_http_request_t *r)
{
	otf__http_msg_destroy(r->msg);
	otf_buf_unref(r->body);
	otf_free(r->tls_subject);
	otf_free(r);
}

void otf__http_split_target(otf_http_request_t *r)
{
	const char *u = r->msg->head + r->msg->url_off;
	size_t n = r->msg->url_len;
	if (n && u[0] != '/') { /* absolute-form: drop scheme://authority */
		const char *sep = strstr(u, "://");
		if (sep) {
			size_t skip = (size_t)(sep - u) + 3;
			skip += strcspn(u + skip, "/?#");
			u += skip;
			n -= skip;
		}
	}
	size_t path_len = strcspn(u, "?#");
	r->path = (otf_http_str_t){path_len ? u : "/", path_len ? path_len : 1};
	if (path_len < n && u[path_len] == '?') {
		const char *q = u + path_len + 1;
		r->query = (otf_http_str_t){q, strcspn(q, "#")};
	} else {
		r->query = (otf_http_str_t){u + n, 0};
	}
}

int otf__http_decode_status(int rc)
{
	switch (rc) {
	case OTF_E_TOO_LARGE:
		return 413;
	case OTF_E_UNSUPPORTED:
		return 415;
	case OTF_E_INVAL:
		return 400;
	default:
		return 500;
	}
}

const char *otf_http_request_method(const otf_http_request_t *req)
{
	return http_method_str((enum http_method)req->msg->method);
}

otf_http_str_t otf_http_request_path(const otf_http_request_t *req)
{
	return req->path;
}

otf_http_str_t otf_http_request_query(const otf_http_request_t *req)
{
	return req->query;
}

otf_http_str_t otf_http_request_header(const otf_http_request_t *req, const char *name)
{
	const otf__http_hdr_t *h = otf__http_msg_header(req->msg, name, strlen(name));
	if (!h)
		return (otf_http_str_t){NULL, 0};
	return (otf_http_str_t){req->msg->head + h->value_off, h->value_len};
}

size_t otf_http_request_header_count(const otf_http_request_t *req)
{
	return req->msg->n_hdrs;
}

int otf_http_request_header_at(const otf_http_request_t *req, size_t i, otf_http_str_t *name,
                               otf_http_str_t *value)
{
	if (i >= req->msg->n_hdrs)
		return OTF_E_RANGE;
	const otf__http_hdr_t *h = &req->msg->hdrs[i];
	*name = (otf_http_str_t){req->msg->head + h->name_off, h->name_len};
	*value = (otf_http_str_t){req->msg->head + h->value_off, h->value_len};
	return 0;
}

otf_buf_t *otf_http_request_body(const otf_http_request_t *req)
{
	return req->body;
}

const struct sockaddr *otf_http_request_peer(const otf_http_request_t *req)
{
	return (const struct sockaddr *)&req->peer;
}

const char *otf_http_request_tls_subject(const otf_http_request_t *req)
{
	return req->tls_subject;
}

bool otf_http_request_alive(const otf_http_request_t *req)
{
	return req->conn != NULL;
}
