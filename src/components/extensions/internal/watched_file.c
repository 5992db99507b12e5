/* Credential files re-read on change (watched_file.h). A stat per call,
 * rate-limited, instead of inotify: credentials are read once per request
 * batch, and a stat every 100 ms costs nothing next to a request. */
#include "watched_file.h"

#include "otflow/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECHECK_NS 100000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reads the file into f->value; called with the lock held (or before
 * the file is shared). */
static int reload(otf_watched_file_t *f, const struct stat *st)
{
	if (st->st_size > OTF_WATCHED_FILE_MAX)
		return -EFBIG;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[OTF_WATCHED_FILE_MAX + 1];
	ssize_t n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - (size_t)n)) > 0)
		n += r;
	int e = r < 0 ? -errno : 0;
	close(fd);
	if (e)
		return e;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	                 buf[n - 1] == '\t'))
		n--;
	memcpy(f->value, buf, (size_t)n);
	f->value[n] = '\0';
	f->mtime = st->st_mtim;
	f->size = st->st_size;
	return 0;
}

int otf__watched_file_init(otf_watched_file_t *f, const char *path, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	f->path = otf_strndup(path, strlen(path));
	if (!f->path)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	struct stat st;
	int rc = stat(path, &st) ? -errno : reload(f, &st);
	if (rc) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
		         rc == -EFBIG ? "larger than 4096 bytes" : strerror(-rc));
		otf__watched_file_close(f);
		return rc;
	}
	f->checked_ns = mono_ns();
	return 0;
}

void otf__watched_file_close(otf_watched_file_t *f)
{
	if (!f->path)
		return;
	pthread_mutex_destroy(&f->lock);
	otf_free(f->path);
	f->path = NULL;
}

int otf__watched_file_get(otf_watched_file_t *f, char *out, size_t cap)
{
	pthread_mutex_lock(&f->lock);
	uint64_t now = mono_ns();
	if (now - f->checked_ns >= RECHECK_NS) {
		f->checked_ns = now;
		struct stat st;
		if (stat(f->path, &st)) {
			f->error = -errno;
		} else if (st.st_size != f->size || st.st_mtim.tv_sec != f->mtime.tv_sec ||
		           st.st_mtim.tv_nsec != f->mtime.tv_nsec) {
			f->error = reload(f, &st);
		}
	}
	snprintf(out, cap, "%s", f->value);
	pthread_mutex_unlock(&f->lock);
	return 0;
}
