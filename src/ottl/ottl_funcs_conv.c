/* OTTL converters (ottlfuncs README, "Converters"): pure functions of
 * their arguments; results live in the record's arena. Also the function
 * lookup over editors and converters. */
#include "ottl_internal.h"

#include "otflow/err.h"
#include "core/openssl_dl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void set_bool(otf_any_value_t *o, bool b)
{
	o->type = OTF_ANY_BOOL;
	o->u.bool_value = b;
}

/* The Collector's StringLikeGetter: strings as they are, numbers and bools
 * formatted, nil stays nil. */
static int string_like(otf__ottl_run_t *r, const otf__ottl_node_t *call, size_t slot,
                       otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, slot, &v);
	if (rc)
		return rc;
	if (v.type == OTF_ANY_EMPTY || v.type == OTF_ANY_STRING) {
		*out = v;
		return 0;
	}
	return otf__ottl_to_string(r->rec->arena, &v, out);
}

static int str_arg(otf__ottl_run_t *r, const otf__ottl_node_t *call, size_t slot,
                   otf_any_value_t *out)
{
	int rc = otf__ottl_arg(r, call, slot, out);
	if (rc)
		return rc;
	if (out->type != OTF_ANY_STRING)
		return otf__ottl_errorf(
		    r->e, call->bound[slot] ? call->bound[slot]->pos : call->pos,
		    "%s: %s must be a string, got %s", call->func->name,
		    call->func->params[slot].name, otf__ottl_type_name(out->type));
	return 0;
}

static int c_is_match(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = string_like(r, call, 0, &v);
	if (rc)
		return rc;
	if (v.type != OTF_ANY_STRING) {
		set_bool(out, false);
		return 0;
	}
	if ((rc = otf__ottl_re_match(r, call, v.u.string_value)) < 0)
		return rc;
	set_bool(out, rc == 1);
	return 0;
}

static int c_concat(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t list, delim;
	int rc = otf__ottl_arg(r, call, 0, &list);
	if (rc || (rc = str_arg(r, call, 1, &delim)))
		return rc;
	if (list.type != OTF_ANY_ARRAY)
		return otf__ottl_errorf(r->e, call->bound[0]->pos, "Concat needs a list, got %s",
		                        otf__ottl_type_name(list.type));
	size_t n = list.u.array_value.values_len, total = 0;
	otf_any_value_t *parts = n ? otf_arena_alloc(r->rec->arena, n * sizeof *parts) : NULL;
	if (n && !parts)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const otf_any_value_t *x = &list.u.array_value.values[i];
		if (x->type == OTF_ANY_EMPTY)
			rc = otf__ottl_string(r->rec->arena, "<nil>", 5,
			                      &parts[i]); /* Go's fmt of nil */
		else
			rc = otf__ottl_to_string(r->rec->arena, x, &parts[i]);
		if (rc)
			return rc;
		total += parts[i].u.string_value.len + (i ? delim.u.string_value.len : 0);
	}
	uint8_t *buf = otf_arena_alloc(r->rec->arena, total + 1);
	if (!buf)
		return OTF_E_NOMEM;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && delim.u.string_value.len) {
			memcpy(buf + w, delim.u.string_value.ptr, delim.u.string_value.len);
			w += delim.u.string_value.len;
		}
		if (parts[i].u.string_value.len)
			memcpy(buf + w, parts[i].u.string_value.ptr, parts[i].u.string_value.len);
		w += parts[i].u.string_value.len;
	}
	out->type = OTF_ANY_STRING;
	out->u.string_value = (otf_bytes_t){buf, w};
	return 0;
}

static int c_split(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v, d;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (rc || (rc = str_arg(r, call, 1, &d)))
		return rc;
	if (v.type == OTF_ANY_EMPTY)
		return 0; /* nil in, nil out */
	if (v.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[0]->pos, "Split needs a string, got %s",
		                        otf__ottl_type_name(v.type));
	otf_bytes_t s = v.u.string_value, sep = d.u.string_value;
	/* Go's strings.Split: an empty separator splits into characters */
	size_t cap = s.len + 1, n = 0, start = 0;
	otf_any_value_t *items = otf_arena_calloc(r->rec->arena, cap, sizeof *items);
	if (!items)
		return OTF_E_NOMEM;
	if (sep.len == 0) {
		for (size_t i = 0; i < s.len;) {
			size_t cl = 1;
			while (i + cl < s.len && (s.ptr[i + cl] & 0xc0) == 0x80)
				cl++;
			items[n].type = OTF_ANY_STRING;
			items[n++].u.string_value = (otf_bytes_t){s.ptr + i, cl};
			i += cl;
		}
	} else {
		for (size_t i = 0; i + sep.len <= s.len;) {
			if (memcmp(s.ptr + i, sep.ptr, sep.len) == 0) {
				items[n].type = OTF_ANY_STRING;
				items[n++].u.string_value = (otf_bytes_t){s.ptr + start, i - start};
				i += sep.len;
				start = i;
			} else {
				i++;
			}
		}
		items[n].type = OTF_ANY_STRING;
		items[n++].u.string_value = (otf_bytes_t){s.ptr + start, s.len - start};
	}
	out->type = OTF_ANY_ARRAY;
	out->u.array_value.values = items;
	out->u.array_value.values_len = n;
	return 0;
}

static int change_case(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out,
                       bool upper)
{
	otf_any_value_t v;
	int rc = str_arg(r, call, 0, &v);
	if (rc ||
	    (rc = otf__ottl_string(r->rec->arena, v.u.string_value.ptr, v.u.string_value.len, out)))
		return rc;
	uint8_t *p = (uint8_t *)out->u.string_value.ptr;
	for (size_t i = 0; i < out->u.string_value.len; i++) {
		if (upper && p[i] >= 'a' && p[i] <= 'z')
			p[i] = (uint8_t)(p[i] - 32);
		else if (!upper && p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (uint8_t)(p[i] + 32);
	}
	return 0;
}

static int c_lower(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	return change_case(r, call, out, false);
}

static int c_upper(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	return change_case(r, call, out, true);
}

/* NUL-terminated copy of a string value on the stack or nothing. */
static bool cstr(otf_bytes_t s, char *buf, size_t size)
{
	if (s.len == 0 || s.len >= size)
		return false;
	memcpy(buf, s.ptr, s.len);
	buf[s.len] = 0;
	return true;
}

static int c_int(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out); /* what cannot convert is nil */
	char buf[64], *end;
	switch (v.type) {
	case OTF_ANY_INT:
		*out = v;
		break;
	case OTF_ANY_BOOL:
		out->type = OTF_ANY_INT;
		out->u.int_value = v.u.bool_value;
		break;
	case OTF_ANY_DOUBLE:
		if (isfinite(v.u.double_value) && fabs(v.u.double_value) < 9.2e18) {
			out->type = OTF_ANY_INT;
			out->u.int_value = (int64_t)v.u.double_value;
		}
		break;
	case OTF_ANY_STRING:
		if (cstr(v.u.string_value, buf, sizeof buf)) {
			errno = 0;
			long long x = strtoll(buf, &end, 10);
			if (!*end && !errno) {
				out->type = OTF_ANY_INT;
				out->u.int_value = x;
			}
		}
		break;
	default:
		break;
	}
	return 0;
}

static int c_double(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	char buf[64], *end;
	switch (v.type) {
	case OTF_ANY_DOUBLE:
		*out = v;
		break;
	case OTF_ANY_INT:
		out->type = OTF_ANY_DOUBLE;
		out->u.double_value = (double)v.u.int_value;
		break;
	case OTF_ANY_BOOL:
		out->type = OTF_ANY_DOUBLE;
		out->u.double_value = v.u.bool_value;
		break;
	case OTF_ANY_STRING:
		if (cstr(v.u.string_value, buf, sizeof buf)) {
			errno = 0;
			double x = strtod(buf, &end);
			if (!*end && !errno) {
				out->type = OTF_ANY_DOUBLE;
				out->u.double_value = x;
			}
		}
		break;
	default:
		break;
	}
	return 0;
}

static int c_string(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (rc || v.type == OTF_ANY_EMPTY) /* String(nil) is nil */
		return rc;
	return otf__ottl_to_string(r->rec->arena, &v, out);
}

static int c_sha256(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = string_like(r, call, 0, &v);
	if (rc || v.type == OTF_ANY_EMPTY)
		return rc;
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(v.u.string_value.ptr, v.u.string_value.len, md, &mdlen, EVP_sha256(), NULL))
		return otf__ottl_errorf(r->e, call->pos, "SHA256 failed");
	return otf__ottl_hex(r->rec->arena, (otf_bytes_t){md, mdlen}, out);
}

static int c_len(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (rc)
		return rc;
	out->type = OTF_ANY_INT;
	switch (v.type) {
	case OTF_ANY_STRING:
	case OTF_ANY_BYTES:
		out->u.int_value = (int64_t)v.u.string_value.len;
		break;
	case OTF_ANY_ARRAY:
		out->u.int_value = (int64_t)v.u.array_value.values_len;
		break;
	case OTF_ANY_KVLIST:
		out->u.int_value = (int64_t)v.u.kvlist_value.values_len;
		break;
	default:
		return otf__ottl_errorf(r->e, call->bound[0]->pos, "Len of %s is not defined",
		                        otf__ottl_type_name(v.type));
	}
	return 0;
}

static int c_is_string(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (!rc)
		set_bool(out, v.type == OTF_ANY_STRING);
	return rc;
}

static int c_is_int(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (!rc)
		set_bool(out, v.type == OTF_ANY_INT);
	return rc;
}

static int id_of(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out, size_t n)
{
	int rc = otf__ottl_arg(r, call, 0, out);
	if (rc)
		return rc;
	if (out->type != OTF_ANY_BYTES || out->u.bytes_value.len != n)
		return otf__ottl_errorf(r->e, call->bound[0]->pos, "%s needs exactly %zu bytes",
		                        call->func->name, n);
	return 0;
}

static int c_trace_id(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	return id_of(r, call, out, OTF_TRACE_ID_LEN);
}

static int c_span_id(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	return id_of(r, call, out, OTF_SPAN_ID_LEN);
}

static int c_now(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)r;
	(void)call;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	out->type = OTTL_VAL_TIME;
	out->u.int_value = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return 0;
}

static int c_unix_nano(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	int rc = otf__ottl_arg(r, call, 0, out);
	if (rc)
		return rc;
	if (out->type != OTTL_VAL_TIME)
		return otf__ottl_errorf(r->e, call->bound[0]->pos, "UnixNano needs a time, got %s",
		                        otf__ottl_type_name(out->type));
	out->type = OTF_ANY_INT;
	return 0;
}

#define ONE(n, t)                         \
	1,                                \
	{                                 \
		{                         \
			n, t, false, NULL \
		}                         \
	}
const otf__ottl_func_t otf__ottl_converters[] = {
    {"IsMatch",
     false,
     VT_BOOL,
     2,
     {{"target", P_ANY, false, NULL}, {"pattern", P_PATTERN, false, NULL}},
     c_is_match},
    {"Concat",
     false,
     VT_STRING,
     2,
     {{"vals", P_LIST, false, NULL}, {"delimiter", P_STRING, false, NULL}},
     c_concat},
    {"Split",
     false,
     VT_LIST,
     2,
     {{"target", P_STRING, false, NULL}, {"delimiter", P_STRING, false, NULL}},
     c_split},
    {"ToLowerCase", false, VT_STRING, ONE("target", P_STRING), c_lower},
    {"ToUpperCase", false, VT_STRING, ONE("target", P_STRING), c_upper},
    {"Int", false, VT_ANY, ONE("value", P_ANY), c_int},
    {"Double", false, VT_ANY, ONE("value", P_ANY), c_double},
    {"String", false, VT_ANY, ONE("value", P_ANY), c_string},
    {"SHA256", false, VT_STRING, ONE("value", P_ANY), c_sha256},
    {"Len", false, VT_INT, ONE("target", P_ANY), c_len},
    {"IsString", false, VT_BOOL, ONE("value", P_ANY), c_is_string},
    {"IsInt", false, VT_BOOL, ONE("value", P_ANY), c_is_int},
    {"TraceID", false, VT_BYTES, ONE("bytes", P_ANY), c_trace_id},
    {"SpanID", false, VT_BYTES, ONE("bytes", P_ANY), c_span_id},
    {"Now", false, VT_TIME, 0, {{0}}, c_now},
    {"UnixNano", false, VT_INT, ONE("time", P_ANY), c_unix_nano},
    {"ParseJSON", false, VT_ANY, ONE("target", P_STRING), otf__ottl_parse_json},
};
#undef ONE
const size_t otf__ottl_converters_len =
    sizeof otf__ottl_converters / sizeof otf__ottl_converters[0];

const otf__ottl_func_t *otf__ottl_func_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < otf__ottl_editors_len; i++)
		if (strlen(otf__ottl_editors[i].name) == len &&
		    memcmp(otf__ottl_editors[i].name, name, len) == 0)
			return &otf__ottl_editors[i];
	for (size_t i = 0; i < otf__ottl_converters_len; i++)
		if (strlen(otf__ottl_converters[i].name) == len &&
		    memcmp(otf__ottl_converters[i].name, name, len) == 0)
			return &otf__ottl_converters[i];
	return NULL;
}
