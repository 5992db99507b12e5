/* SIGBUS containment for the otlp_mmap reader's mappings.
 *
 * A file truncated below a mapped page makes any access to that page
 * raise SIGBUS, and no size check can close the window between the check
 * and the access (a hostile or buggy producer may ftruncate at any time).
 * The reader registers each mapping here. A process-wide SIGBUS handler
 * looks the faulting address up: inside a registered mapping it maps a
 * private zero page over the faulting page (the access is retried and
 * reads zeros), raises the mapping's fault flag and returns; the reader
 * then treats the file as corrupt (mmap_reader.c). A fault anywhere else
 * gets the previous disposition back and recurs (a real bug still
 * crashes). No longjmp: no code is interrupted half way through an update.
 *
 * Thread rules: register/unregister from the thread that owns the
 * mapping; the handler runs on the faulting thread and only reads the
 * table with atomic loads. At most OTF_MMG_MAX mappings are registered at
 * a time; otf__mmg_register() fails past it (the caller then does not use
 * the mapping). */
#ifndef OTF_MMAP_GUARD_H
#define OTF_MMAP_GUARD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define OTF_MMG_MAX 4096

/* Installs the handler (again, when other code replaced it since: that
 * handler becomes the fallback) and registers [p, p + len),
 * whose faults set *flag to 1. 0, or OTF_E_NOSPACE when the table is full. */
int otf__mmg_register(const void *p, size_t len, volatile sig_atomic_t *flag);
/* Removes the mapping starting at p (before munmap). */
void otf__mmg_unregister(const void *p);
/* Faults contained since the process started. */
uint64_t otf__mmg_faults(void);

#endif
