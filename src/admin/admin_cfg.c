/* The CFG body parser of POST /api/v1/nodes/{id}/config (admin.h): JSON or
 * YAML, chosen by Content-Type. Both end in the config loader, so a node's
 * new config is read exactly as the same keys in the config file are
 * (env references included); a JSON body is first checked by json-c, so
 * YAML-only syntax sent as JSON is refused rather than guessed at. */
#include "admin/admin.h"

#include "otflow/config.h"
#include "otflow/err.h"

#include <json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The media type of a Content-Type value, without parameters or case. */
static bool media_is(const char *ct, size_t len, const char *type)
{
	size_t n = 0;
	while (n < len && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t')
		n++;
	return n == strlen(type) && !strncasecmp(ct, type, n);
}

int otf__admin_cfg_parse(const char *ctype, size_t ctype_len, const char *body, size_t len,
                         struct otf_config **out, char *msg, size_t msglen)
{
	*out = NULL;
	bool json = ctype && media_is(ctype, ctype_len, "application/json");
	bool yaml = ctype && (media_is(ctype, ctype_len, "application/yaml") ||
	                      media_is(ctype, ctype_len, "application/x-yaml") ||
	                      media_is(ctype, ctype_len, "text/yaml"));
	if (!json && !yaml) {
		snprintf(msg, msglen,
		         "Content-Type must be application/json or application/yaml (got %.*s)",
		         ctype ? (int)(ctype_len > 100 ? 100 : ctype_len) : 6,
		         ctype ? ctype : "nothing");
		return 415;
	}
	if (!body || !len) {
		snprintf(msg, msglen, "empty body: send the node's config as a mapping");
		return 400;
	}
	if (memchr(body, '\0', len)) {
		snprintf(msg, msglen, "the body holds a NUL byte");
		return 400;
	}
	if (json) {
		json_tokener *tok = json_tokener_new();
		if (!tok) {
			snprintf(msg, msglen, "out of memory");
			return 500;
		}
		json_object *o = json_tokener_parse_ex(tok, body, (int)len);
		enum json_tokener_error je = json_tokener_get_error(tok);
		size_t used = json_tokener_get_parse_end(tok);
		json_tokener_free(tok);
		bool trailing = false;
		for (size_t i = used; o && i < len; i++)
			if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
				trailing = true;
		bool object = o && json_object_is_type(o, json_type_object);
		json_object_put(o);
		if (!o || je != json_tokener_success || trailing) {
			snprintf(msg, msglen, "malformed JSON at byte %zu: %s", used,
			         trailing ? "data after the value"
			         : je == json_tokener_continue || je == json_tokener_success
			             ? "the body ends inside a value"
			             : json_tokener_error_desc(je));
			return 400;
		}
		if (!object) {
			snprintf(
			    msg, msglen,
			    "the body must be a JSON object: the node's config, as under its id "
			    "in the config file");
			return 400;
		}
	}
	otf_config_error_t cerr;
	int rc = otf_config_load_string("body", body, len, NULL, out, &cerr);
	if (rc) {
		snprintf(msg, msglen, "%s", rc == OTF_E_CONFIG ? cerr.text : otf_strerror(rc));
		return rc == OTF_E_NOMEM || rc == -12 ? 500 : 400;
	}
	if (otf_config_node_kind(otf_config_root(*out)) != OTF_CONFIG_MAPPING) {
		otf_config_destroy(*out);
		*out = NULL;
		snprintf(msg, msglen,
		         "the body must be a mapping: the node's config, as under its id in the "
		         "config file");
		return 400;
	}
	return 0;
}
