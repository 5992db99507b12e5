/* Checkpoints of open-span state for at_least_once delivery (mmap_ckpt.c). */
#ifndef OTF_MMAP_CKPT_H
#define OTF_MMAP_CKPT_H

#include "mmap_drain.h"

#define OTF_MMCK_SUFFIX ".otflow-ckpt"

/* Serialises the drain's open spans with the ring positions they are valid at. */
int otf__mmck_snapshot(const otf__mmd_t *d, const int64_t pos[OTF_MMR_RINGS], otf_buf_t **out);
/* Replaces <file>.otflow-ckpt atomically (temporary + rename, mode 0600). */
int otf__mmck_write(const char *file, const otf_buf_t *snap);
/* Restores open spans of the current epoch and the positions; OTF_E_NOT_FOUND
 * when there is no checkpoint for this epoch, OTF_E_INVAL when it is damaged. */
int otf__mmck_load(otf__mmd_t *d, const char *file, int64_t pos[OTF_MMR_RINGS], uint64_t mono_ns);
void otf__mmck_remove(const char *file);
void otf__mmck_path(const char *file, char *out, size_t cap, bool tmp);

#endif
