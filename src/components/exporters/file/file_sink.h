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

/* Opens (or shares) the sink for path. max_bytes 0 disables rotation. */
int otf_file_sink_open(const char *path, bool append, uint64_t max_bytes, int max_backups,
                       otf_file_sink_t **out);
int otf_file_sink_write(otf_file_sink_t *s, const uint8_t *data, size_t len,
                        otf_file_record_t kind);
void otf_file_sink_flush(otf_file_sink_t *s);
void otf_file_sink_close(otf_file_sink_t *s);

#endif
