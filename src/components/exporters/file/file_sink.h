/* A file shared by every worker's file exporter instance for one path. */
#ifndef OTF_FILE_SINK_H
#define OTF_FILE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct otf_file_sink otf_file_sink_t;

typedef enum otf_file_record {
	OTF_FILE_RECORD_LINE = 0,          /* bytes then '\n' */
	OTF_FILE_RECORD_LENGTH_PREFIX = 1, /* uint32 big-endian length, then bytes */
} otf_file_record_t;

typedef struct otf_file_sink_opts {
	bool append;        /* keep an existing file's content */
	uint64_t max_bytes; /* rotate past this size; 0 = never */
	int max_backups;    /* rotated files kept; 0 = all */
	/* Each write is on disk (fflush + fsync; the directory too when a file
	 * is created) before otf_file_sink_write returns. */
	bool sync;
	/* Each record becomes one zstd frame behind a uint32 big-endian length
	 * of the frame (the Collector's fileexporter layout); kind is then
	 * ignored: no newline, no uncompressed length. */
	bool zstd;
} otf_file_sink_opts_t;

/* Opens (or shares) the sink for path. Every exporter sharing a path must
 * ask for the same sync and zstd settings (OTF_E_CONFIG otherwise);
 * rotation and append come from the first. Errors: negative errno,
 * OTF_E_NOMEM, OTF_E_CONFIG. */
int otf_file_sink_open(const char *path, const otf_file_sink_opts_t *o, otf_file_sink_t **out);
/* Writes one record whole (thread-safe). Errors (the record is not
 * written): negative errno from the open (after a failed rotation left
 * no file, each write opens it again), write or fsync, OTF_E_IO,
 * OTF_E_NOMEM. A rotation after the record failed to open the new file:
 * the record is written (0), *rotate_err (if not NULL; else 0) is that
 * negative errno and the next write opens the file again. */
int otf_file_sink_write(otf_file_sink_t *s, const uint8_t *data, size_t len, otf_file_record_t kind,
                        int *rotate_err);
/* fflush of the buffered records: 0 or the negative errno (ENOSPC, EIO)
 * of a failed write-back (those records are lost), or of the open when a
 * failed rotation left no file and it still cannot be opened. */
int otf_file_sink_flush(otf_file_sink_t *s);
void otf_file_sink_close(otf_file_sink_t *s);

#endif
