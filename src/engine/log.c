/* Engine log: one line per event on stderr, "time level who: message".
 * Lines are written with one fprintf so concurrent workers do not
 * interleave within a line (stdio locks the stream per call). */
#include "engine/engine_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic int g_level = OTF_LOG_INFO;

void otf_log_set_level(otf_log_level_t level)
{
	atomic_store(&g_level, (int)level);
}

void otf__log(otf_log_level_t level, const char *who, const char *fmt, va_list ap)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if ((int)level < atomic_load_explicit(&g_level, memory_order_relaxed))
		return;
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\t%s\t%s\t%s\n", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	        names[level & 3], who, msg);
}

void otf_log(otf_log_level_t level, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	otf__log(level, who, fmt, ap);
	va_end(ap);
}
