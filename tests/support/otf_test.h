/* Shared helpers for the unit tests (cmocka). */
#ifndef OTF_TEST_H
#define OTF_TEST_H

#include <stddef.h>
#include <stdint.h>

/* The source tree (OTF_SOURCE_DIR from CTest), or "." */
const char *otf_test_source_dir(void);

/* Whole file into a malloc'd buffer (free() it); NULL when unreadable. */
uint8_t *otf_test_read_file(const char *path, size_t *len);

#endif
