/* A small text file whose content is re-read when it changes (size or
 * modification time), for credentials that rotate without a restart
 * (bearertokenauth `filename`, basicauth `password_file`). Thread-safe:
 * every worker may read at once. */
#ifndef OTF_EXT_WATCHED_FILE_H
#define OTF_EXT_WATCHED_FILE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OTF_WATCHED_FILE_MAX 4096 /* bytes of content kept; longer files are refused */

typedef struct otf_watched_file {
	char *path;
	pthread_mutex_t lock;
	uint64_t checked_ns; /* monotonic time of the last stat */
	struct timespec mtime;
	int64_t size;
	char value[OTF_WATCHED_FILE_MAX + 1]; /* trailing whitespace trimmed */
	int error; /* last read's error (negative errno), 0 when value is good */
} otf_watched_file_t;

/* Reads path once; 0, or a negative errno (-EFBIG past the limit) with
 * err naming the file. */
int otf__watched_file_init(otf_watched_file_t *f, const char *path, char *err, size_t errlen);
void otf__watched_file_close(otf_watched_file_t *f);
/* Copies the current content into out (cap bytes), re-reading the file
 * when it changed (checked at most every 100 ms). On a read error the last
 * good content stays in use. Returns 0 or the error when no content was
 * ever read. */
int otf__watched_file_get(otf_watched_file_t *f, char *out, size_t cap);

#endif
