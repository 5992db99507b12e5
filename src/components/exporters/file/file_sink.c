/* Process-wide file sinks, one per path, shared by the workers' file
 * exporter instances; a mutex keeps every record whole. */
#include "file_sink.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

struct otf_file_sink {
	char *path;
	FILE *fp;
	pthread_mutex_t mu;
	int refs;
	uint64_t size;
	uint64_t max_bytes;
	int max_backups;
	bool sync, zstd;
	ZSTD_CCtx *cctx;
	uint8_t *zbuf; /* compressed record */
	size_t zcap;
	otf_file_sink_t *next;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static otf_file_sink_t *g_sinks;

/* A new file survives a crash only once its directory entry is on disk. */
static void sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
	else
		snprintf(dir, sizeof dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static FILE *open_file(const char *path, bool append, bool sync, uint64_t *size)
{
	/* 0600: telemetry may hold personal data; the operator widens it. */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
	if (fd < 0)
		return NULL;
	struct stat st;
	*size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	FILE *fp = fdopen(fd, append ? "a" : "w");
	if (!fp)
		close(fd);
	else if (sync)
		sync_dir(path);
	return fp;
}

int otf_file_sink_open(const char *path, const otf_file_sink_opts_t *o, otf_file_sink_t **out)
{
	pthread_mutex_lock(&g_mu);
	for (otf_file_sink_t *s = g_sinks; s; s = s->next) {
		if (!strcmp(s->path, path)) {
			if (s->sync != o->sync || s->zstd != o->zstd) {
				pthread_mutex_unlock(&g_mu);
				return OTF_E_CONFIG;
			}
			s->refs++;
			*out = s;
			pthread_mutex_unlock(&g_mu);
			return 0;
		}
	}
	otf_file_sink_t *s = otf_calloc(1, sizeof *s);
	int rc = OTF_E_NOMEM;
	if (s && (s->path = otf_strndup(path, strlen(path)))) {
		s->fp = open_file(path, o->append, o->sync, &s->size);
		if (s->fp && o->zstd && !(s->cctx = ZSTD_createCCtx())) {
			fclose(s->fp);
			s->fp = NULL;
			errno = ENOMEM;
		}
		if (s->fp) {
			pthread_mutex_init(&s->mu, NULL);
			s->refs = 1;
			s->max_bytes = o->max_bytes;
			s->max_backups = o->max_backups;
			s->sync = o->sync;
			s->zstd = o->zstd;
			s->next = g_sinks;
			g_sinks = s;
			*out = s;
			pthread_mutex_unlock(&g_mu);
			return 0;
		}
		rc = -errno;
		otf_free(s->path);
	}
	otf_free(s);
	pthread_mutex_unlock(&g_mu);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest rotated files beyond max_backups. Rotated names sort
 * by time because the suffix is a UTC timestamp. */
static void prune_backups(otf_file_sink_t *s)
{
	if (s->max_backups <= 0)
		return;
	char dir[4096], prefix[1024];
	const char *slash = strrchr(s->path, '/');
	if (slash) {
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - s->path), s->path);
		snprintf(prefix, sizeof prefix, "%s.", slash + 1);
	} else {
		snprintf(dir, sizeof dir, ".");
		snprintf(prefix, sizeof prefix, "%s.", s->path);
	}
	DIR *d = opendir(dir[0] ? dir : "/");
	if (!d)
		return;
	char *names[1024] = {0};
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 1024)
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			names[n++] = otf_strndup(de->d_name, strlen(de->d_name));
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (names[i] && n - i > (size_t)s->max_backups) {
			char full[8192];
			snprintf(full, sizeof full, "%s/%s", dir, names[i]);
			unlink(full);
		}
		otf_free(names[i]);
	}
}

static int rotate(otf_file_sink_t *s)
{
	fclose(s->fp);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char name[4200];
	snprintf(name, sizeof name, "%s.%04d%02d%02dT%02d%02d%02d.%09ld", s->path,
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         ts.tv_nsec);
	/* A failed rename (the file or its directory removed) still opens a
	 * new file when it can: only a failed open is an error. */
	rename(s->path, name);
	prune_backups(s);
	s->fp = open_file(s->path, false, s->sync, &s->size);
	return s->fp ? 0 : -errno;
}

/* After a failed rotation there is no file: each write tries to open it
 * again (appending), so writing resumes once the path works again. */
static int reopen(otf_file_sink_t *s)
{
	if (s->fp)
		return 0;
	s->fp = open_file(s->path, true, s->sync, &s->size);
	return s->fp ? 0 : -errno;
}

int otf_file_sink_write(otf_file_sink_t *s, const uint8_t *data, size_t len, otf_file_record_t kind,
                        int *rotate_err)
{
	pthread_mutex_lock(&s->mu);
	int rc = reopen(s);
	if (rotate_err)
		*rotate_err = 0;
	if (rc)
		goto out;
	if (s->zstd) {
		/* Level 3: zstd's default, what the Collector's encoder uses. */
		size_t bound = ZSTD_compressBound(len);
		if (s->zcap < bound) {
			uint8_t *nb = otf_realloc(s->zbuf, bound);
			if (!nb) {
				rc = OTF_E_NOMEM;
				goto out;
			}
			s->zbuf = nb;
			s->zcap = bound;
		}
		size_t n = ZSTD_compressCCtx(s->cctx, s->zbuf, s->zcap, data, len, 3);
		if (ZSTD_isError(n)) {
			rc = OTF_E_IO;
			goto out;
		}
		data = s->zbuf;
		len = n;
		kind = OTF_FILE_RECORD_LENGTH_PREFIX;
	}
	if (kind == OTF_FILE_RECORD_LENGTH_PREFIX) {
		uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
		                  (uint8_t)len};
		if (fwrite(hdr, 1, 4, s->fp) != 4)
			rc = -errno;
	}
	if (!rc && len && fwrite(data, 1, len, s->fp) != len)
		rc = -errno;
	if (!rc && kind == OTF_FILE_RECORD_LINE && fputc('\n', s->fp) == EOF)
		rc = -errno;
	/* fflush + fsync: the acknowledgement waits for the disk. */
	if (!rc && s->sync && (fflush(s->fp) == EOF || fsync(fileno(s->fp))))
		rc = -errno;
	if (!rc) {
		s->size += len + (kind == OTF_FILE_RECORD_LINE ? 1 : 4);
		/* The record is written whatever happens to the rotation. */
		int rr = s->max_bytes && s->size > s->max_bytes ? rotate(s) : 0;
		if (rr && rotate_err)
			*rotate_err = rr;
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rc ? (rc < 0 ? rc : OTF_E_IO) : 0;
}

int otf_file_sink_flush(otf_file_sink_t *s)
{
	pthread_mutex_lock(&s->mu);
	int rc = reopen(s); /* no file since a failed rotation: still failing? */
	if (!rc && fflush(s->fp) == EOF) {
		rc = errno ? -errno : OTF_E_IO;
		clearerr(s->fp); /* the next flush tries again */
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void otf_file_sink_close(otf_file_sink_t *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&g_mu);
	if (--s->refs > 0) {
		pthread_mutex_unlock(&g_mu);
		(void)otf_file_sink_flush(s); /* the others keep the file */
		return;
	}
	for (otf_file_sink_t **pp = &g_sinks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&g_mu);
	if (s->fp)
		fclose(s->fp);
	ZSTD_freeCCtx(s->cctx);
	otf_free(s->zbuf);
	pthread_mutex_destroy(&s->mu);
	otf_free(s->path);
	otf_free(s);
}
