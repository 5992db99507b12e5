/* OTTL regexes on PCRE2: patterns are compiled (and JIT-compiled when the
 * platform has it) once at check time; matching reuses one match block per
 * thread, so the hot path allocates nothing but the replaced string. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <pthread.h>

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static int md_key_rc;

static void md_free(void *p)
{
	pcre2_match_data_free(p);
}

static void md_init(void)
{
	md_key_rc = pthread_key_create(&md_key, md_free);
}

/* This thread's match block, with room for every group of re. */
static pcre2_match_data *match_data(const pcre2_code *re)
{
	uint32_t groups = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	pthread_once(&md_once, md_init);
	if (md_key_rc) /* no key: a block per call */
		return pcre2_match_data_create(groups + 1, NULL);
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (md && pcre2_get_ovector_count(md) > groups)
		return md;
	pcre2_match_data_free(md);
	md = pcre2_match_data_create(groups + 1 > 16 ? groups + 1 : 16, NULL);
	if (pthread_setspecific(md_key, md) != 0) {
		pcre2_match_data_free(md);
		return NULL;
	}
	return md;
}

static void match_data_done(pcre2_match_data *md)
{
	if (md_key_rc)
		pcre2_match_data_free(md);
}

int otf__ottl_re_compile(const otf_bytes_t pattern, pcre2_code **out, int *code, size_t *off)
{
	PCRE2_SIZE o = 0;
	/* Go's regexp works on UTF-8 text; \C could split a character (RE2 rejects it too) */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern.ptr, pattern.len,
	                               PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, code, &o, NULL);
	*off = o;
	if (!re)
		return OTF_E_INVAL;
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	*out = re;
	return 0;
}

int otf__ottl_re_match(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_bytes_t s)
{
	pcre2_match_data *md = match_data(call->re);
	if (!md)
		return OTF_E_NOMEM;
	int rc = pcre2_match(call->re, s.ptr, s.len, 0, 0, md, NULL);
	match_data_done(md);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return otf__ottl_errorf(r->e, call->pos, "regex match failed (PCRE2 error %d)", rc);
}

int otf__ottl_re_replace(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_bytes_t s,
                         otf_bytes_t repl, otf_any_value_t *out)
{
	uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
	                PCRE2_SUBSTITUTE_UNKNOWN_UNSET | PCRE2_SUBSTITUTE_UNSET_EMPTY;
	pcre2_match_data *md = match_data(call->re);
	if (!md)
		return OTF_E_NOMEM;
	/* one pass in the common case: room for the input and some growth */
	PCRE2_SIZE cap = s.len + s.len / 2 + repl.len + 16, n = cap;
	PCRE2_UCHAR *buf = otf_arena_alloc(r->rec->arena, cap);
	int rc = buf ? pcre2_substitute(call->re, s.ptr, s.len, 0, opts, md, NULL, repl.ptr,
	                                repl.len, buf, &n)
	             : OTF_E_NOMEM;
	if (rc == PCRE2_ERROR_NOMEMORY) { /* n is the length needed */
		cap = n;
		buf = otf_arena_alloc(r->rec->arena, cap);
		rc = buf ? pcre2_substitute(call->re, s.ptr, s.len, 0, opts, md, NULL, repl.ptr,
		                            repl.len, buf, &n)
		         : OTF_E_NOMEM;
	}
	match_data_done(md);
	if (rc == OTF_E_NOMEM)
		return rc;
	if (rc < 0)
		return otf__ottl_errorf(r->e, call->pos, "regex replace failed (PCRE2 error %d)",
		                        rc);
	out->type = OTF_ANY_STRING;
	out->u.string_value = rc == 0 ? s : (otf_bytes_t){buf, n};
	return rc; /* substitutions made */
}
