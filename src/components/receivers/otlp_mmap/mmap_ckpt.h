/* Checkpoints of open-span state for at_least_once delivery (mmap_ckpt.c). */
#ifndef OTF_MMAP_CKPT_H
#define OTF_MMAP_CKPT_H

#include "mmap_drain.h"

#define OTF_MMCK_SUFFIX ".otflow-ckpt"

/* Serialises the drain's open spans with the ring positions they are valid at. */
int otf__mmck_snapshot(const otf__mmd_t *d, const int64_t pos[OTF_MMR_RINGS], otf_buf_t **out);
/* Replaces <file>.otflow-ckpt atomically (temporary + rename, mode 0600). */
int otf__mmck_write(const char *file, const otf_buf_t *snap);
/* Restores the open spans and positions of a checkpoint of d's attached
 * file: 0; OTF_E_NOT_FOUND when there is none; OTF_E_INVAL when it is
 * refused (another epoch, other ring sizes or dictionary offset, a
 * position outside [-1, writer_index], damaged records): then nothing is
 * restored, pos is untouched and why (cap bytes) says which check failed. */
int otf__mmck_load(otf__mmd_t *d, const char *file, int64_t pos[OTF_MMR_RINGS], uint64_t mono_ns,
                   char *why, size_t why_cap);
/* The same over checkpoint bytes in memory (b, n): the fuzz target and tests. */
int otf__mmck_parse(otf__mmd_t *d, const uint8_t *b, size_t n, int64_t pos[OTF_MMR_RINGS],
                    uint64_t mono_ns, char *why, size_t why_cap);
void otf__mmck_remove(const char *file);
void otf__mmck_path(const char *file, char *out, size_t cap, bool tmp);

#endif
