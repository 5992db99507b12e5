/* Decode-failure details: error code, byte offset, field path, detail. */
#include "pdata_err.h"

#include "otflow/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int otf__perr_set(otf_pdata_error_t *err, int code, size_t offset, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	err->offset = offset;
	err->path[0] = '\0';
	err->detail[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof err->detail, fmt, ap);
		va_end(ap);
	}
	return code;
}

int otf__perr_push(otf_pdata_error_t *err, int code, const char *field, long index)
{
	if (!err)
		return code;
	char seg[96];
	int n = index >= 0 ? snprintf(seg, sizeof seg, "%s[%ld]", field, index)
	                   : snprintf(seg, sizeof seg, "%s", field);
	if (n < 0)
		return code;
	size_t sl = (size_t)n < sizeof seg ? (size_t)n : sizeof seg - 1;
	size_t pl = strlen(err->path);
	size_t dot = pl ? 1 : 0;
	if (sl + dot + pl >= sizeof err->path)
		return code; /* keep the innermost part rather than truncating it */
	memmove(err->path + sl + dot, err->path, pl + 1);
	memcpy(err->path, seg, sl);
	if (dot)
		err->path[sl] = '.';
	return code;
}

const char *otf_pdata_error_format(const otf_pdata_error_t *err, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s%s at byte %zu", err->path[0] ? err->path : "",
	         err->path[0] ? ": " : "", otf_strerror(err->code), err->detail[0] ? " (" : "",
	         err->detail, err->detail[0] ? ")" : "", err->offset);
	return buf;
}

const char *otf_signal_name(otf_signal_t s)
{
	switch (s) {
	case OTF_SIGNAL_TRACES:
		return "traces";
	case OTF_SIGNAL_METRICS:
		return "metrics";
	case OTF_SIGNAL_LOGS:
		return "logs";
	}
	return "unknown";
}
